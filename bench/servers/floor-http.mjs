// The HTTP half every floor server shares (not a product): node:http reads the body, checks the HMAC-SHA1 in
// X-Hub-Signature against SECRET, parses the JSON, hands it to `store(notification, text)` and answers 200 once the
// returned promise says whether it was new (true) or a duplicate (false); 401 on a bad signature, 503 when the store
// fails. Listens on PORT.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

/** Serves POSTed notifications through `store`; see the file comment. */
export function serveFloor(store) {
  const secret = process.env.SECRET;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const given = req.headers["x-hub-signature"];
      const expected = "sha1=" + createHmac("sha1", secret).update(body).digest("hex");
      if (typeof given !== "string" || given.length !== expected.length) return res.writeHead(401).end();
      if (!timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return res.writeHead(401).end();
      const text = body.toString();
      store(JSON.parse(text), text).then(
        (inserted) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(inserted ? '{"received":true}' : '{"received":true,"duplicate":true}');
        },
        () => res.writeHead(503).end(),
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
}
