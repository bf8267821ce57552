/**
 * The dashboard's pages: `GET /dashboard` (the single-page app's index.html) and every file under it (app.js, the
 * `views/` modules, app.css), served from memory with a strict Content-Security-Policy and ETags. The pages hold no
 * data and need no token; the data comes from the API. Imports no store.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { StaticAsset } from "../static-assets.js";
import { sendError } from "./context.js";

// Everything is same-origin and there is no inline script or style; the API is called with fetch.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Registers `/dashboard`, `/dashboard/` and `/dashboard/<file>` (including `views/<module>.js`) over `assets`. */
export function registerPages(app: FastifyInstance, assets: ReadonlyMap<string, StaticAsset>): void {
  const send = (name: string, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const asset = assets.get(name);
    if (!asset) {
      if (name === "index.html") {
        return sendError(reply, "IB_ERR_CONFIG", "Dashboard assets are missing from this build; run `npm run build`");
      }
      return sendError(reply, "IB_ERR_NOT_FOUND", `No dashboard file named "${name}"`);
    }
    reply
      .header("content-type", asset.contentType)
      .header("etag", asset.etag)
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("x-frame-options", "DENY")
      .header("content-security-policy", CONTENT_SECURITY_POLICY);
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };
  // The page loads its files and the API by relative URLs (so a prefix in front of /dashboard works), which resolve
  // against the folder only with the trailing slash: send "/dashboard" there with a relative Location, which keeps
  // whatever prefix the browser saw.
  const page = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const [path = "", query] = req.url.split("?", 2);
    if (path.endsWith("/") || !assets.has("index.html")) return send("index.html", req, reply);
    return reply.redirect(`dashboard/${query === undefined ? "" : `?${query}`}`, 308);
  };
  app.get("/dashboard", page);
  // With `ignoreTrailingSlash` the first route already answers "/dashboard/", and registering it again would throw.
  if (!app.hasRoute({ method: "GET", url: "/dashboard/" })) app.get("/dashboard/", page);
  // Only names in the map exist (read once at start), so a decoded "../" in the path finds nothing.
  app.get<{ Params: { "*": string } }>("/dashboard/*", (req, reply) => send(req.params["*"], req, reply));
}
