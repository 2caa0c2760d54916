"""A REST client the way Python callers use mcprag: POST /mcp/tool/{name} with the arguments as a
JSON body and {"result": ...} back. Standard library only. Usage:

    python3 mcprag_rest_client.py BASE_URL [TOKEN]

prints one JSON object with what each of the three code tools answered.
"""
import json
import sys
import urllib.request


class McpragClient:
    def __init__(self, base_url, token=None):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def _call(self, tool, **kwargs):
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base_url + "/mcp/tool/" + tool, data=json.dumps(kwargs).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req) as res:
            return json.load(res)["result"]

    def search_code(self, query, **kwargs):
        return self._call("search_code", query=query, **kwargs)

    def analyze_context(self, file_path, **kwargs):
        return self._call("analyze_context", file_path=file_path, **kwargs)

    def generate_code(self, description, **kwargs):
        return self._call("generate_code", description=description, **kwargs)


if __name__ == "__main__":
    client = McpragClient(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    search = client.search_code("verify a one-time password", limit=3)
    analysis = client.analyze_context("src/auth/totp.ts")
    generated = client.generate_code("refuse a login when the code is wrong", language="typescript")
    try:
        client.search_code("x", max_results=5)
        unknown = None
    except urllib.error.HTTPError as err:
        unknown = {"status": err.code, "body": json.load(err)}
    print(json.dumps({
        "search": [hit["path"] + ":" + hit["symbol"] for hit in search["structuredContent"]["results"]],
        "search_text": search["content"][0]["text"].splitlines()[0],
        "analysis": analysis["structuredContent"]["summary"],
        "generated": {k: generated["structuredContent"][k] for k in ("sampled", "reason")},
        "generated_prompt": generated["content"][0]["text"][:40],
        "unknown": unknown,
    }))
