// (b) The reference guide's Express handler (../shared/seed): express.raw, HMAC-SHA1, timingSafeEqual, answer 200,
// then process in memory. Kept as written, including its RangeError on a signature of another length.
import express from "express";
import crypto from "node:crypto";

const app = express();
const processed = [];
async function processWebhookAsync(notification) {
  processed.push(notification.id);
  if (processed.length > 10_000) processed.length = 0;
}
app.post("/webhooks/intercom", express.raw({ type: "application/json", limit: "1mb" }), async (req, res) => {
  const signature = req.headers["x-hub-signature"];
  const secret = process.env.INTERCOM_WEBHOOK_SECRET;
  if (!signature) return res.status(401).json({ error: "Missing X-Hub-Signature" });
  const expected = "sha1=" + crypto.createHmac("sha1", secret).update(req.body).digest("hex");
  if (!crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    return res.status(401).json({ error: "Invalid signature" });
  }
  const notification = JSON.parse(req.body.toString());
  res.status(200).json({ received: true });
  processWebhookAsync(notification).catch(console.error);
});
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.keepAliveTimeout = 65_000;
