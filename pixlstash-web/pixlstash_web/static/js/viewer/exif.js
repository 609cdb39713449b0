// The viewer's Camera section: EXIF as a photographer reads it.

/** A number, or a rational as older imports stored it ("(1, 1000)"). */
function rational(value) {
  const pair = /^\((-?[\d.]+), (-?[\d.]+)\)$/.exec(String(value ?? ""));
  if (pair) return Number(pair[2]) ? Number(pair[1]) / Number(pair[2]) : NaN;
  return Number(value);
}

/** Where it was taken: "51.50740° N, 0.12780° W · 35 m" (GPS, from the camera or the photo software). */
function placeText(exif) {
  const lat = Number(exif.gps_latitude), lon = Number(exif.gps_longitude);
  if (exif.gps_latitude == null || exif.gps_longitude == null || !Number.isFinite(lat) || !Number.isFinite(lon)) return "";
  const altitude = Number(exif.gps_altitude);
  const height = exif.gps_altitude != null && Number.isFinite(altitude) ? ` · ${Math.round(altitude)} m` : "";
  return `${Math.abs(lat).toFixed(5)}° ${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(5)}° ${lon < 0 ? "W" : "E"}${height}`;
}

/** EXIF as a photographer reads it: 1/1000 s, f/2.8, 35 mm, ISO 200, camera and lens, the time it was
 * taken in the camera's own time zone when the file says which, and where. Other fields follow as they are. */
export function exifRows(exif) {
  const rows = [];
  const used = new Set(["make", "model", "lens_model", "exposure_time", "f_number", "focal_length", "iso",
    "datetime_original", "offset_original", "datetime", "user_comment", "orientation",
    "gps_latitude", "gps_longitude", "gps_altitude"]);
  const make = String(exif.make || "").trim();
  const model = String(exif.model || "").trim();
  const camera = model.toLowerCase().startsWith(make.toLowerCase()) ? model : [make, model].filter(Boolean).join(" ");
  if (camera) rows.push(["Camera", camera]);
  if (exif.lens_model) rows.push(["Lens", String(exif.lens_model)]);
  const settings = [];
  const t = rational(exif.exposure_time);
  if (t > 0) settings.push(t < 1 ? `1/${Math.round(1 / t)} s` : `${Number(t.toFixed(1))} s`);
  if (rational(exif.f_number) > 0) settings.push(`f/${Number(rational(exif.f_number).toFixed(1))}`);
  if (rational(exif.focal_length) > 0) settings.push(`${Number(rational(exif.focal_length).toFixed(1))} mm`);
  if (exif.iso) settings.push(`ISO ${exif.iso}`);
  if (settings.length) rows.push(["Exposure", settings.join(" · ")]);
  const taken = String(exif.datetime_original || exif.datetime || "");
  const when = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2})/.exec(taken);
  if (when) {
    const zone = /^[+-]\d{2}:\d{2}$/.test(String(exif.offset_original || "")) ? ` (UTC${exif.offset_original})` : "";
    rows.push(["Taken", `${when[1]}-${when[2]}-${when[3]} ${when[4]}:${when[5]}${zone}`]);
  }
  const place = placeText(exif);
  if (place) rows.push(["Place", place]);
  for (const [key, value] of Object.entries(exif)) {
    if (used.has(key) || rows.length >= 40) continue;
    rows.push([key.replaceAll("_", " "), typeof value === "object" ? JSON.stringify(value) : String(value)]);
  }
  return rows;
}
