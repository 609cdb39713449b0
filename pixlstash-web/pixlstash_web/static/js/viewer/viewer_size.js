// How big the viewer draws a picture: "contain" in the stage, except that a small picture is drawn at most
// twice its size (a 112 px icon blown up 7x is a blur), unless the person asks for Fit.

const MOST_ENLARGED = 2;
let fitSmall = false;  // the person's choice, for the rest of the session

/** The box the picture is fitted in: the image's own box less its padding (which holds a small picture to
 * twice its size). Layout sizes, not on-screen boxes, so that an opening animation does not shift marks. */
export function drawnAt(img, p) {
  const style = getComputedStyle(img);
  const padLeft = parseFloat(style.paddingLeft) || 0;
  const padTop = parseFloat(style.paddingTop) || 0;
  const width = img.offsetWidth - padLeft - (parseFloat(style.paddingRight) || 0);
  const height = img.offsetHeight - padTop - (parseFloat(style.paddingBottom) || 0);
  const scale = Math.min(width / p.width, height / p.height);
  return { scale, left: padLeft + (width - p.width * scale) / 2, top: padTop + (height - p.height * scale) / 2 };
}

/** Hold a small picture to twice its size in ``stage`` (again whenever the stage changes size); the Fit
 * button, shown only for such a picture, fills the stage instead. ``redraw()`` places the marks again. */
export function holdSmallPictures(stage, img, button, p, redraw) {
  if (!img || !button) return;
  const place = () => {
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    const small = p.width * MOST_ENLARGED < width && p.height * MOST_ENLARGED < height;
    button.hidden = !small;
    button.setAttribute("aria-pressed", String(fitSmall));
    img.style.padding = small && !fitSmall
      ? `${(height - p.height * MOST_ENLARGED) / 2}px ${(width - p.width * MOST_ENLARGED) / 2}px` : "";
  };
  place();
  new ResizeObserver(place).observe(stage);  // created before the marks' observers, so it runs first
  button.onclick = () => { fitSmall = !fitSmall; place(); redraw(); };
}
