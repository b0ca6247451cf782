// The comparison view: side by side (the default, and all there is without JavaScript),
// overlay (the candidate over the probe, mixed with a slider) and blink.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const modes = document.getElementById("compare-modes");
  const compare = document.getElementById("compare");
  if (!modes || !compare) return;
  const mix = document.getElementById("overlay-mix");
  const candidate = compare.querySelector(".face-candidate");
  modes.hidden = false;
  function show(mode) {
    compare.className = "compare mode-" + mode;
    modes.querySelectorAll("button").forEach((b) => {
      const on = b.dataset.mode === mode;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("secondary", !on);
    });
    mix.parentElement.hidden = mode !== "overlay";
    candidate.style.opacity = mode === "overlay" ? String(1 - mix.value / 100) : "";
  }
  modes.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => show(b.dataset.mode)));
  mix.addEventListener("input", () => show("overlay"));
});
