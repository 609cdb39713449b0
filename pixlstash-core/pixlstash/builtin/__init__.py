"""PixlStash's own plugins. Each is registered exactly as an installed plugin would be."""
