import { headerMaterial, sha256Hex } from "../http/key-material";

/**
 * Brim's own Vary for the Cache API (src/cache/store.ts): a primary key whose response varies
 * holds a marker record naming the Vary fields; each variant lives under the primary key plus a
 * hash of the request's values for those fields (as Varnish and Fastly do).
 */

/** Marks a primary-key record that only lists the Vary fields; the variants live elsewhere. */
export const VARY_MARKER_HEADER = "x-brim-vary";

/** A Vary marker: the fields, and a generation that changes whenever the marker is replaced. */
export interface Marker {
  readonly fields: readonly string[];
  readonly generation: string;
}

export function readMarker(headers: Headers): Marker | null {
  const value = headers.get(VARY_MARKER_HEADER);
  if (value === null) return null;
  const semi = value.indexOf(";");
  return { generation: value.slice(0, semi), fields: value.slice(semi + 1).split(",") };
}

export function markerValue(marker: Marker): string {
  return `${marker.generation};${marker.fields.join(",")}`;
}

/** The key of the variant `requestHeaders` select under `marker` (RFC 9111 §4.1). */
export async function variantKey(primaryKey: string, marker: Marker, requestHeaders: Headers): Promise<string> {
  let material = "";
  // Absent and empty differ (RFC 9111 §4.1); see `headerMaterial`.
  for (const name of marker.fields) material += `${headerMaterial(name, requestHeaders.get(name))}\n`;
  return `${primaryKey}/v/${marker.generation}/${await sha256Hex(material)}`;
}
