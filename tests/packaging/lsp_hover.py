"""One LSP session with an installed `paper-ls`, as an editor opens it:
initialize, open a Markdown note that cites a bundled paper, hover the key,
shut down. Prints the server's name and version and the hover's text; exits
1 when the hover does not show the paper's abstract.

python3 lsp_hover.py COMMAND WORKSPACE_DIR
"""

import json
import os
import subprocess
import sys
import threading

KEY = "grokfast-accelerated-grokking"
ABSTRACT = "One puzzling artifact in machine learning dubbed grokking"


def main() -> int:
    command, workspace = sys.argv[1], os.path.abspath(sys.argv[2])
    note = os.path.join(workspace, "note.md")
    text = f"# Notes\n\nSlow-gradient amplification [@{KEY}] speeds up grokking.\n"
    with open(note, "w", encoding="utf-8") as f:
        f.write(text)
    proc = subprocess.Popen([command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # A server that hangs must not hang the test.
    timer = threading.Timer(120, proc.kill)
    timer.start()
    next_id = [0]

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    def receive() -> dict:
        length = None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(proc.stdout.read(length))

    def request(method: str, params) -> dict:
        next_id[0] += 1
        send({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params})
        while True:
            message = receive()
            if message.get("id") == next_id[0] and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")
            if "method" in message and "id" in message:
                # A request from the server (configuration, progress): answer it.
                result = [None] * len(message.get("params", {}).get("items", [])) if message["method"] == "workspace/configuration" else None
                send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    try:
        root = "file://" + workspace
        init = request("initialize", {
            "processId": os.getpid(),
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": "notes"}],
            "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}},
        })
        info = init.get("serverInfo", {})
        print(f"serverInfo: {info.get('name')} {info.get('version')}")
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        uri = "file://" + note
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}})
        line = 2
        character = text.splitlines()[line].index(KEY) + 3
        hover = request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
        contents = (hover or {}).get("contents", {})
        shown = contents.get("value", "") if isinstance(contents, dict) else str(contents)
        print("hover: " + " ".join(shown.split())[:300])
        request("shutdown", None)
        send({"jsonrpc": "2.0", "method": "exit"})
        proc.wait(timeout=30)
        return 0 if ABSTRACT in shown else 1
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main())
