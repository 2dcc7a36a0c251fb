// Reads one JSON request on stdin and answers with TrueLayer's truelayer-signing:
//   {"op":"verify","jwks":"…","signature":"…","method":"POST","path":"/…","headers":{…},"body":"…"}
//     -> {"ok":true} or {"ok":false,"error":"…"}; also {"jku":"…"} from extractJku
//   {"op":"sign","kid":"…","privateKeyPem":"…","method":"POST","path":"/…","headers":{…},"body":"…"}
//     -> {"signature":"…"}
const tl = require("truelayer-signing");

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  let out;
  try {
    if (req.op === "sign") {
      out = { signature: tl.sign({ kid: req.kid, privateKeyPem: req.privateKeyPem, method: req.method, path: req.path, headers: req.headers, body: req.body }) };
    } else {
      const jku = tl.extractJku(req.signature);
      tl.verify({ jwks: req.jwks, signature: req.signature, method: req.method, path: req.path, headers: req.headers, body: req.body });
      out = { ok: true, jku };
    }
  } catch (e) {
    out = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out));
});
