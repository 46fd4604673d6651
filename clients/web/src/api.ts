// The console's one connection to the server: Connect clients for the
// services and the two plain-HTTP archive routes (a browser cannot stream a
// request body through Connect or gRPC-Web, so uploads PUT the file).
//
// Security: the access key lives in this module's variable only — never in
// localStorage, sessionStorage or a cookie — and goes out only in the
// authorization header of requests to the console's own origin. Every
// request is same-origin and omits cookies, so with no ambient credential
// there is nothing a cross-site request could forge.

import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { fromJson } from "@bufbuild/protobuf";
import { ArchiveService } from "@gen/wormvault/v1/archive_pb.js";
import { AuditService } from "@gen/wormvault/v1/audit_pb.js";
import { LockService } from "@gen/wormvault/v1/lock_pb.js";
import { ArchiveSchema, type Archive } from "@gen/wormvault/v1/types_pb.js";
import { VaultService } from "@gen/wormvault/v1/vault_pb.js";
import { ApiError, fromHttpStatus, toApiError } from "./errors";

let token: string | null = null;

/** signIn keeps the bearer token "<key-id>.<secret>" for the next calls. */
export function signIn(keyId: string, secret: string): void {
  keyId = keyId.trim();
  secret = secret.trim();
  if (!keyId || !secret || keyId.includes(".")) {
    throw new ApiError("INVALID_ARGUMENT", "", "give the access key id and its secret (the two halves of <key-id>.<secret>)");
  }
  token = `${keyId}.${secret}`;
}

export function signOut(): void {
  token = null;
}

/** keyId is the signed-in access key's id, never its secret. */
export function keyId(): string {
  return token?.split(".", 1)[0] ?? "";
}

function authorization(): string {
  if (!token) throw new ApiError("UNAUTHENTICATED", "", "not signed in");
  return `Bearer ${token}`;
}

/** ownOrigin resolves url against the page and refuses any other origin. */
function ownOrigin(url: string): URL {
  const u = new URL(url, window.location.href);
  if (u.origin !== window.location.origin) {
    throw new ApiError("PERMISSION_DENIED", "", `the console sends requests only to its own origin, not ${u.origin}`);
  }
  return u;
}

// The fetch the Connect transport uses: own origin only, no cookies, no
// redirects (the API never redirects; following one could carry the key).
const guardedFetch: typeof fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  ownOrigin(url);
  return globalThis.fetch(input, { ...init, credentials: "omit", redirect: "error" });
};

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useBinaryFormat: true,
  fetch: guardedFetch,
  interceptors: [
    (next) => (req) => {
      req.header.set("authorization", authorization());
      return next(req);
    },
  ],
});

export const vaults: Client<typeof VaultService> = createClient(VaultService, transport);
export const archives: Client<typeof ArchiveService> = createClient(ArchiveService, transport);
export const locks: Client<typeof LockService> = createClient(LockService, transport);
export const audit: Client<typeof AuditService> = createClient(AuditService, transport);

/** archivePath is the REST path of an archive; a key's "/" stay separators. */
export function archivePath(vault: string, key: string): string {
  return `/v1/vaults/${encodeURIComponent(vault)}/archives/${key.split("/").map(encodeURIComponent).join("/")}`;
}

export interface UploadOptions {
  contentType: string;
  retention?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainUntil: Date };
  legalHold: boolean;
}

/**
 * uploadArchive PUTs file as the archive vault/key. XMLHttpRequest rather
 * than fetch: only it reports how much of a request body has been sent.
 * That is all onProgress can tell; the archive exists once the answer
 * comes, after the server has written it to its drives.
 */
export function uploadArchive(vault: string, key: string, file: Blob, opts: UploadOptions, onProgress: (sent: number, total: number) => void): Promise<Archive> {
  return new Promise((resolve, reject) => {
    let url: URL;
    let auth: string;
    try {
      url = ownOrigin(archivePath(vault, key));
      auth = authorization();
    } catch (err) {
      reject(toApiError(err));
      return;
    }
    if (opts.retention) {
      url.searchParams.set("retention.mode", opts.retention.mode);
      url.searchParams.set("retention.retain_until_time", opts.retention.retainUntil.toISOString());
    }
    if (opts.legalHold) url.searchParams.set("legal_hold", "true");
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url.href);
    xhr.withCredentials = false;
    xhr.setRequestHeader("authorization", auth);
    xhr.setRequestHeader("content-type", opts.contentType || "application/octet-stream");
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    xhr.onerror = () => reject(new ApiError("UNAVAILABLE", "", "the upload did not reach the server (network error)"));
    xhr.onabort = () => reject(new ApiError("CANCELLED", "", "the upload was cancelled"));
    xhr.onload = () => {
      if (xhr.status !== 200) {
        reject(fromHttpStatus(xhr.status, xhr.responseText));
        return;
      }
      try {
        const body = JSON.parse(xhr.responseText) as { archive?: unknown };
        resolve(fromJson(ArchiveSchema, (body.archive ?? {}) as never, { ignoreUnknownFields: true }));
      } catch (err) {
        reject(new ApiError("INTERNAL", "", `unreadable upload answer: ${String(err)}`));
      }
    };
    xhr.send(file);
  });
}

/** downloadArchive fetches a version's bytes and its SHA-256 as the server states it. */
export async function downloadArchive(vault: string, key: string, versionId: string): Promise<{ blob: Blob; sha256Hex: string; contentType: string }> {
  const url = ownOrigin(archivePath(vault, key));
  url.searchParams.set("alt", "media");
  if (versionId) url.searchParams.set("version_id", versionId);
  let resp: Response;
  try {
    resp = await globalThis.fetch(url.href, { headers: { authorization: authorization() }, credentials: "omit", redirect: "error", cache: "no-store" });
  } catch (err) {
    throw toApiError(err);
  }
  if (!resp.ok) throw fromHttpStatus(resp.status, await resp.text());
  const blob = await resp.blob();
  return { blob, sha256Hex: resp.headers.get("x-wormvault-sha256") ?? "", contentType: resp.headers.get("content-type") ?? "" };
}

export { ApiError };
