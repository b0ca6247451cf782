// FaceAtlas web app: choose a photo (drop, picker, camera) or a clip, pick a face or a face
// track, watch ingest jobs.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Problems show as a visible alert; progress stays quiet text.
function statusLine(status) {
  return function say(text, problem) {
    status.textContent = text;
    status.className = problem ? "error" : "muted";
    if (problem) status.setAttribute("role", "alert"); else status.removeAttribute("role");
  };
}

// POST one file to the API as the signed-in user; the JSON answer, or null when unreachable.
async function postFile(url, field, file) {
  const body = new FormData();
  body.append(field, file);
  try {
    const reply = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken() },
    });
    return { ok: reply.ok, data: await reply.json() };
  } catch (e) {
    return null;
  }
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
  const say = statusLine(status);

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
    const reply = await postFile("/api/v1/faces/detect", "image", file);
    if (!reply) {
      say("The server could not be reached.", true);
      return;
    }
    const data = reply.data;
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
      if (job.status !== "queued" && job.status !== "running") {
        clearInterval(timer);
        if (row.dataset.reload) window.location.reload();  // the job's page shows its summary
      }
    }, 1000);
  });
}

function setupVideoSearch() {
  const form = document.getElementById("video-search-form");
  if (!form) return;
  const input = document.getElementById("video");
  const list = document.getElementById("tracks");
  const trackField = document.getElementById("track");
  const button = document.getElementById("video-search-button");
  const say = statusLine(document.getElementById("tracks-status"));
  const seconds = (s) => s.toFixed(1) + " s";

  function choose(index) {
    trackField.value = String(index);
    list.querySelectorAll(".track").forEach((b) => {
      const on = b.dataset.track === String(index);
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    button.disabled = false;
    say("Track #" + index + " selected. Check the case number and purpose, then search.");
  }

  function show(tracks) {
    list.replaceChildren();
    tracks.forEach((t) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "track";
      b.dataset.track = String(t.index);
      b.setAttribute("aria-label", "face track #" + t.index);
      const img = document.createElement("img");
      img.src = t.thumbnail;
      img.alt = "face track #" + t.index;
      const label = document.createElement("span");
      label.textContent = "#" + t.index + " · " + seconds(t.span.start_s) + "–" +
        seconds(t.span.end_s) + " · " + t.span.frames + " frames";
      b.append(img, label);
      b.addEventListener("click", () => choose(t.index));
      const item = document.createElement("li");
      item.appendChild(b);
      list.appendChild(item);
    });
  }

  async function findTracks(file) {
    trackField.value = "";
    button.disabled = true;
    list.replaceChildren();
    say("Following the faces of the clip…");
    const reply = await postFile("/api/v1/video/tracks", "video", file);
    if (!reply) {
      say("The server could not be reached.", true);
      return;
    }
    if (!reply.ok) {
      say(reply.data.error ? reply.data.error.message : "The clip could not be read.", true);
      return;
    }
    const tracks = reply.data.tracks;
    show(tracks);
    if (tracks.length === 0) say("No face found in this clip. Try another one.", true);
    else if (tracks.length === 1) choose(0);
    else say(tracks.length + " face tracks found (numbered from #0): pick the one to search for.");
  }

  input.addEventListener("change", () => { if (input.files[0]) findTracks(input.files[0]); });
  form.addEventListener("submit", (e) => {
    if (!trackField.value) { e.preventDefault(); say("Pick a face track first.", true); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupSearch();
  setupVideoSearch();
  setupJobs();
});
