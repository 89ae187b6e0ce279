// The benchmark's baseline: a plain JavaScript worker that forwards a request to the origin the way
// the Rust edge does for an anonymous caller with rate limits off. It keeps or makes the request id,
// takes the client IP, copies the headers minus hop-by-hop, cf-* and edge-owned ones, signs the
// x-rookery-edge assertion (HMAC-SHA256, the same format as shared/src/edge_assertion.rs), forwards
// with manual redirects and relays the answer with the request id. It does no authentication: the
// benchmark compares it with the Rust worker on anonymous requests only.

const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
  "te", "trailer", "transfer-encoding", "upgrade",
]);
const EDGE_OWNED = new Set([
  "x-rookery-edge", "x-request-id", "host", "x-forwarded-host", "x-forwarded-proto",
]);
const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const encoder = new TextEncoder();
let cachedKey = null;

async function hmacKey(secret) {
  if (!cachedKey || cachedKey.secret !== secret) {
    const key = await crypto.subtle.importKey(
      "raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
    );
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

function clean(text) {
  return text.replace(/[^A-Za-z0-9.:_-]/g, "").slice(0, 64);
}

function base64url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function assertion(secret, now, ip, requestId, method, path) {
  const signed = `v1;${now};0;0;${clean(ip)};${clean(requestId)}`;
  const message = `${signed};${method};${path.replace(/\/+$/, "")}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return `${signed};${base64url(signature)}`;
}

function copyHeaders(from, skip) {
  const connection = (from.get("connection") || "").toLowerCase().split(",").map((s) => s.trim());
  const to = new Headers();
  for (const [name, value] of from) {
    if (HOP_BY_HOP.has(name) || connection.includes(name) || skip(name)) continue;
    to.append(name, value);
  }
  return to;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const given = request.headers.get("x-request-id");
    const requestId = given && SANE_ID.test(given) ? given : crypto.randomUUID();
    const ip = (request.headers.get("cf-connecting-ip") || "").trim()
      || (request.headers.get("x-forwarded-for") || "").split(",")[0].trim()
      || "unknown";

    const headers = copyHeaders(request.headers, (name) => EDGE_OWNED.has(name) || name.startsWith("cf-"));
    const now = Math.floor(Date.now() / 1000);
    headers.set("x-rookery-edge", await assertion(env.EDGE_SECRET, now, ip, requestId, request.method, url.pathname));
    headers.set("x-request-id", requestId);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));

    let response;
    try {
      response = await fetch(`${env.ORIGIN_URL}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
      });
    } catch {
      return Response.json({ detail: "The origin could not be reached." }, {
        status: 502, headers: { "x-request-id": requestId },
      });
    }
    const out = copyHeaders(response.headers, () => false);
    out.set("x-request-id", requestId);
    return new Response(response.body, { status: response.status, headers: out });
  },
};
