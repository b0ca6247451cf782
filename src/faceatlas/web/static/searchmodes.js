// A batch search's page follows its job until it ends, then shows the report.
"use strict";

function followBatch() {
  const box = document.getElementById("batch-status");
  if (!box) return;
  const running = (s) => s === "queued" || s === "running";
  if (!running(box.dataset.status)) return;
  const timer = setInterval(async () => {
    const reply = await fetch("/api/v1/search/batches/" + box.dataset.batch, { credentials: "same-origin" });
    if (!reply.ok) { clearInterval(timer); return; }
    const batch = await reply.json();
    box.querySelector(".status").textContent = batch.status;
    box.querySelector(".done").textContent = batch.done;
    box.querySelector(".failed").textContent = batch.failed;
    const bar = box.querySelector("progress");
    bar.max = batch.total || 1; bar.value = batch.done;
    if (!running(batch.status)) { clearInterval(timer); window.location.reload(); }
  }, 1000);
}

document.addEventListener("DOMContentLoaded", followBatch);
