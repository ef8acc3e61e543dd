// The playground: picks a language from GET /api/v1/languages, edits code in
// CodeMirror (served by the master from the system's libjs-codemirror; a
// plain text area when it is not installed), runs it through
// POST /api/v1/execute and shows what came of it. An API key, when the server
// wants one, is kept in this tab's session storage only.
"use strict";

const SAMPLES = {
  python: 'import sys\n\nname = sys.stdin.readline().strip() or "world"\nprint(f"Hello, {name}!")\nprint("arguments:", sys.argv[1:])\n',
  ruby: 'name = ($stdin.gets || "").strip\nname = "world" if name.empty?\nputs "Hello, #{name}!"\nputs "arguments: #{ARGV.inspect}"\n',
  perl: 'my $name = <STDIN> // "";\nchomp $name;\n$name = "world" if $name eq "";\nprint "Hello, $name!\\n";\nprint "arguments: @ARGV\\n";\n',
  javascript: 'const input = require("fs").readFileSync(0, "utf8").trim();\nconsole.log(`Hello, ${input || "world"}!`);\nconsole.log("arguments:", process.argv.slice(2));\n',
  typescript: 'const input: string = require("fs").readFileSync(0, "utf8").trim();\nconst name: string = input || "world";\nconsole.log(`Hello, ${name}!`);\n',
  php: '<?php\n$name = trim(fgets(STDIN) ?: "");\nif ($name === "") { $name = "world"; }\necho "Hello, $name!\\n";\necho "arguments: " . implode(" ", array_slice($argv, 1)) . "\\n";\n',
  java: 'import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n        Scanner in = new Scanner(System.in);\n        String name = in.hasNextLine() ? in.nextLine().trim() : "";\n        System.out.println("Hello, " + (name.isEmpty() ? "world" : name) + "!");\n        System.out.println("arguments: " + String.join(" ", args));\n    }\n}\n',
  c: '#include <stdio.h>\n#include <string.h>\n\nint main(int argc, char **argv) {\n    char name[100] = "";\n    if (!fgets(name, sizeof name, stdin) || name[0] == \'\\n\') strcpy(name, "world\\n");\n    name[strcspn(name, "\\n")] = 0;\n    printf("Hello, %s!\\n", name);\n    printf("arguments: %d\\n", argc - 1);\n    return 0;\n}\n',
  cpp: '#include <iostream>\n#include <string>\n\nint main(int argc, char **argv) {\n    std::string name;\n    if (!std::getline(std::cin, name) || name.empty()) name = "world";\n    std::cout << "Hello, " << name << "!\\n";\n    std::cout << "arguments: " << argc - 1 << "\\n";\n}\n',
  go: 'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n\t"strings"\n)\n\nfunc main() {\n\tline, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\n\tname := strings.TrimSpace(line)\n\tif name == "" {\n\t\tname = "world"\n\t}\n\tfmt.Printf("Hello, %s!\\n", name)\n\tfmt.Println("arguments:", os.Args[1:])\n}\n',
  rust: 'use std::io::Read;\n\nfn main() {\n    let mut input = String::new();\n    std::io::stdin().read_to_string(&mut input).ok();\n    let name = match input.trim() {\n        "" => "world",\n        name => name,\n    };\n    println!("Hello, {name}!");\n    println!("arguments: {:?}", std::env::args().skip(1).collect::<Vec<_>>());\n}\n',
  bash: 'read -r name\necho "Hello, ${name:-world}!"\necho "arguments: $*"\n',
  lua: 'local name = io.read("l") or ""\nif name == "" then name = "world" end\nprint("Hello, " .. name .. "!")\nprint("arguments: " .. table.concat(arg, " "))\n',
};
SAMPLES["java-compiled"] = SAMPLES.java;

// CodeMirror modes by language (MIME types of the modes the page loads).
const MODES = {
  python: "python", ruby: "ruby", perl: "perl", javascript: "javascript",
  typescript: "text/typescript", php: "text/x-php", java: "text/x-java",
  "java-compiled": "text/x-java", c: "text/x-csrc", cpp: "text/x-c++src",
  go: "go", rust: "rust", bash: "shell", lua: "lua",
};

const $ = (id) => document.getElementById(id);
const KEY_STORE = "braindrill.api_key";
const codeArea = $("code");
const editor = window.CodeMirror
  ? CodeMirror.fromTextArea(codeArea, {
      lineNumbers: true,
      indentUnit: 4,
      matchBrackets: true,
      extraKeys: {
        Tab: (cm) => cm.somethingSelected() ? cm.indentSelection("add") : cm.replaceSelection("    ", "end"),
        "Ctrl-Enter": () => run(),
      },
    })
  : null;
const getCode = () => (editor ? editor.getValue() : codeArea.value);
const setCode = (code) => (editor ? editor.setValue(code) : (codeArea.value = code));
window.playground = { editor, getCode, setCode };

$("api-key").value = sessionStorage.getItem(KEY_STORE) || "";
$("api-key").addEventListener("change", () => {
  sessionStorage.setItem(KEY_STORE, $("api-key").value.trim());
  loadLanguages();
});

function headers() {
  const key = $("api-key").value.trim();
  const all = { "content-type": "application/json" };
  if (key) all.authorization = "Bearer " + key;
  return all;
}

function notice(text) {
  $("notice").textContent = text || "";
}

// The code typed for each language, so switching back keeps it.
const drafts = {};
let current = null;

function choose(language) {
  if (current) drafts[current] = getCode();
  current = language;
  setCode(drafts[language] ?? SAMPLES[language] ?? "");
  if (editor) editor.setOption("mode", MODES[language] || null);
}

async function loadLanguages() {
  let response;
  try {
    response = await fetch("/api/v1/languages", { headers: headers() });
  } catch (error) {
    notice("cannot reach the server: " + error);
    return;
  }
  if (response.status === 401) {
    notice("this server wants an API key: enter it above");
    return;
  }
  if (!response.ok) {
    notice("cannot list the languages: HTTP " + response.status);
    return;
  }
  const languages = await response.json();
  const select = $("language");
  select.replaceChildren(...languages.map((language) => {
    const option = document.createElement("option");
    option.value = language.name;
    option.textContent = language.name;
    option.title = language.version || "";
    return option;
  }));
  const wanted = current && languages.some((l) => l.name === current) ? current : (languages.find((l) => l.name === "python") || languages[0] || {}).name;
  select.value = wanted;
  select.disabled = false;
  $("run").disabled = false;
  notice(editor ? "" : "the editor (libjs-codemirror) is not installed on the server: a plain text area stands in");
  current = null;
  choose(wanted);
}

$("language").addEventListener("change", (event) => choose(event.target.value));

function show(result) {
  $("result").hidden = false;
  const status = $("status");
  status.textContent = result.status;
  status.className = result.status === "ok" ? "ok" : "bad";
  $("exit-code").textContent = result.exit_code ?? "–";
  $("time").textContent = result.wall_time_ms == null ? "–" : result.wall_time_ms + " ms";
  $("memory").textContent = result.memory_peak_bytes == null ? "–" : (result.memory_peak_bytes / 1048576).toFixed(1) + " MiB";
  $("node").textContent = result.node || "–";
  const compile = result.compile;
  $("compile-block").hidden = !compile || (!compile.stdout && !compile.stderr);
  $("compile-output").textContent = compile ? compile.stdout + compile.stderr : "";
  $("stdout").textContent = result.stdout + (result.stdout_truncated ? "\n[truncated]" : "");
  $("stderr").textContent = result.stderr + (result.stderr_truncated ? "\n[truncated]" : "");
}

function showError(status, error) {
  $("result").hidden = false;
  $("status").textContent = error.code || "HTTP " + status;
  $("status").className = "bad";
  for (const id of ["exit-code", "time", "memory", "node"]) $(id).textContent = "–";
  $("compile-block").hidden = true;
  $("stdout").textContent = "";
  $("stderr").textContent = error.message || "";
}

async function run() {
  if ($("run").disabled) return;
  $("run").disabled = true;
  $("status").textContent = "running…";
  $("status").className = "";
  const args = $("args").value.trim();
  const body = {
    language: $("language").value,
    code: getCode(),
    stdin: $("stdin").value,
    args: args ? args.split(/\s+/) : [],
  };
  try {
    const response = await fetch("/api/v1/execute", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) show(answer);
    else showError(response.status, answer.error || {});
  } catch (error) {
    showError(0, { code: "network_error", message: String(error) });
  } finally {
    $("run").disabled = false;
  }
}

$("run").addEventListener("click", run);
codeArea.addEventListener("keydown", (event) => {
  if (event.ctrlKey && event.key === "Enter") run();
});
loadLanguages();
