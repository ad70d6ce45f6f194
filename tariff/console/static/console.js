// The rule editor page: CodeMirror (editor.js) wired to the console's JSON endpoints.
(function () {
  const file = JSON.parse(document.getElementById("file").textContent);
  const status = document.getElementById("status");
  const list = document.getElementById("diagnostics");
  let revision = file.revision;

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function showDiagnostics(answer) {
    list.textContent = "";
    if (answer.error) { say(answer.error, "error"); return; }
    const found = answer.diagnostics || [];
    if (!found.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = list.dataset.none;
      list.appendChild(li);
    }
    for (const d of found) {
      const li = document.createElement("li");
      li.className = d.severity;
      li.dataset.line = d.line;
      li.textContent = `${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}` +
        (d.hint ? ` — ${d.hint}` : "");
      list.appendChild(li);
    }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(body), credentials: "same-origin",
    });
    let answer;
    try { answer = await response.json(); } catch (e) { answer = { error: response.statusText }; }
    return { ok: response.ok, answer };
  }

  const editor = TariffEditor.mount(document.getElementById("editor"), {
    text: file.text, path: file.path, checkUrl: "/api/check",
    onDiagnostics: showDiagnostics,
    onChange: () => say(""),
  });
  window.tariffEditor = editor;

  document.getElementById("format").addEventListener("click", async () => {
    const { ok, answer } = await post("/api/format", { path: file.path, text: editor.getText() });
    if (!ok) { say(answer.error, "error"); return; }
    if (answer.text === null) { showDiagnostics(answer); say("does not parse: not formatted", "error"); return; }
    if (answer.text !== editor.getText()) editor.setText(answer.text);
    say("formatted", "ok");
  });

  document.getElementById("save").addEventListener("click", async () => {
    const body = { path: file.path, text: editor.getText(), revision };
    const { ok, answer } = await post("/api/save", body);
    if (!ok) { say(answer.error, "error"); return; }
    revision = answer.revision;
    showDiagnostics(answer);
    say(`${file.labels.saved} (rev ${revision})`, "ok");
  });

  async function runExamples(all) {
    const { ok, answer } = await post("/api/examples", { path: file.path, text: editor.getText(), all });
    const table = document.getElementById("examples");
    const body = table.querySelector("tbody");
    body.textContent = "";
    if (!ok) { say(answer.error, "error"); return; }
    if (answer.diagnostics.length) { showDiagnostics(answer); say("the rules do not compile: examples not run", "error"); return; }
    let passed = 0;
    for (const e of answer.examples) {
      const tr = document.createElement("tr");
      tr.className = e.status;
      for (const cell of [`${e.path}:${e.line} ${e.name}`, file.labels[e.status] || e.status, e.expected, e.actual]) {
        const td = document.createElement("td");
        td.textContent = cell;
        tr.appendChild(td);
      }
      body.appendChild(tr);
      if (e.status === "passed") passed += 1;
    }
    table.hidden = false;
    say(`${passed}/${answer.examples.length} ${file.labels.passed}`, passed === answer.examples.length ? "ok" : "error");
  }
  document.getElementById("run-examples").addEventListener("click", () => runExamples(false));
  document.getElementById("run-all").addEventListener("click", () => runExamples(true));

  document.getElementById("upload").addEventListener("change", async (event) => {
    const chosen = event.target.files[0];
    if (!chosen) return;
    const response = await fetch(`/api/upload?name=${encodeURIComponent(chosen.name)}`, {
      method: "POST", body: chosen, credentials: "same-origin",
    });
    const answer = await response.json();
    event.target.value = "";
    if (!response.ok) { say(answer.error, "error"); return; }
    editor.setText(answer.text);
    say(`${chosen.name} loaded (not saved yet)`, "ok");
  });
})();
