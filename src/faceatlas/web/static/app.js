// FaceAtlas web app: choose a photo (drop, picker, camera), pick a face, watch ingest jobs.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function setupSearch() {
  const form = document.getElementById("search-form");
  if (!form) return;
  const input = document.getElementById("image");
  const camera = document.getElementById("camera");
  const zone = document.getElementById("dropzone");
  const probe = document.getElementById("probe");
  let img = null;
  const status = document.getElementById("faces-status");
  const faceField = document.getElementById("face");
  const button = document.getElementById("search-button");
  let objectUrl = null;

  // Problems show as a visible alert; progress stays quiet text.
  function say(text, problem) {
    status.textContent = text;
    status.className = problem ? "error" : "muted";
    if (problem) status.setAttribute("role", "alert"); else status.removeAttribute("role");
  }

  function choose(index) {
    faceField.value = String(index);
    probe.querySelectorAll(".facebox").forEach((b) => {
      b.classList.toggle("chosen", b.dataset.face === String(index));
      b.setAttribute("aria-pressed", b.dataset.face === String(index) ? "true" : "false");
    });
    button.disabled = false;
    say("Face #" + index + " selected. Check the case number and purpose, then search.");
  }

  function drawBoxes(faces) {
    probe.querySelectorAll(".facebox").forEach((b) => b.remove());
    const w = img.naturalWidth, h = img.naturalHeight;
    faces.forEach((f) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "facebox";
      b.dataset.face = String(f.index);
      b.setAttribute("aria-label", "face #" + f.index);
      b.style.left = (100 * f.box.left / w) + "%";
      b.style.top = (100 * f.box.top / h) + "%";
      b.style.width = (100 * (f.box.right - f.box.left) / w) + "%";
      b.style.height = (100 * (f.box.bottom - f.box.top) / h) + "%";
      const label = document.createElement("span");
      label.textContent = "#" + f.index;
      b.appendChild(label);
      b.addEventListener("click", () => choose(f.index));
      probe.appendChild(b);
    });
  }

  async function detect(file) {
    faceField.value = "";
    button.disabled = true;
    say("Looking for faces…");
    const body = new FormData();
    body.append("image", file);
    let reply;
    try {
      reply = await fetch("/api/v1/faces/detect", {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken() },
      });
    } catch (e) {
      say("The server could not be reached.", true);
      return;
    }
    const data = await reply.json();
    if (!reply.ok) {
      say(data.error ? data.error.message : "The photo could not be read.", true);
      return;
    }
    if (!img.complete) await new Promise((r) => img.addEventListener("load", r, { once: true }));
    drawBoxes(data.faces);
    if (data.faces.length === 0) {
      say("No face found in this photo. Try another one.", true);
    } else if (data.faces.length === 1) {
      choose(0);
    } else {
      say(data.faces.length + " faces found (numbered from #0): tap the one to search for.");
    }
  }

  function use(file) {
    if (!file) return;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    if (!img) {
      img = document.createElement("img");
      img.id = "probe-img";
      img.alt = "the photo to search with";
      probe.appendChild(img);
    }
    img.src = objectUrl;
    probe.hidden = false;
    detect(file);
  }

  function adopt(files) {
    if (!files || !files.length) return;
    const dt = new DataTransfer();
    dt.items.add(files[0]);
    input.files = dt.files;
    use(files[0]);
  }

  input.addEventListener("change", () => use(input.files[0]));
  camera.addEventListener("change", () => adopt(camera.files));
  ["dragenter", "dragover"].forEach((n) => zone.addEventListener(n, (e) => {
    e.preventDefault(); zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((n) => zone.addEventListener(n, (e) => {
    e.preventDefault(); zone.classList.remove("over");
  }));
  zone.addEventListener("drop", (e) => adopt(e.dataTransfer.files));
  form.addEventListener("submit", (e) => {
    if (!faceField.value) { e.preventDefault(); say("Pick a face first.", true); }
  });
}

function setupJobs() {
  const rows = document.querySelectorAll("tr.job");
  rows.forEach((row) => {
    if (row.dataset.status !== "queued" && row.dataset.status !== "running") return;
    const id = row.dataset.job;
    const timer = setInterval(async () => {
      const reply = await fetch("/api/v1/jobs/" + id, { credentials: "same-origin" });
      if (!reply.ok) { clearInterval(timer); return; }
      const job = await reply.json();
      row.dataset.status = job.status;
      row.querySelector(".status").textContent = job.status + (job.error ? ": " + job.error : "");
      row.querySelector(".done").textContent = job.done;
      row.querySelector(".total").textContent = job.total === null ? "?" : job.total;
      row.querySelector(".faces").textContent = job.faces;
      const bar = row.querySelector("progress");
      bar.max = job.total || 1; bar.value = job.done;
      if (job.status !== "queued" && job.status !== "running") clearInterval(timer);
    }, 1000);
  });
}

document.addEventListener("DOMContentLoaded", () => { setupSearch(); setupJobs(); });
