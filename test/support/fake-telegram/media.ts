// Uploaded media checks: recognising real images by their magic bytes and reading their
// dimensions (Telegram answers IMAGE_PROCESS_FAILED for bytes that are not a picture, and
// PHOTO_INVALID_DIMENSIONS for extreme sizes), and guessing a document's MIME type from its
// file name the way Telegram reports `mime_type`.

export interface ImageInfo {
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp';
  width: number;
  height: number;
}

function jpegSize(bytes: Buffer): { width: number; height: number } | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return null;
}

function webpSize(bytes: Buffer): { width: number; height: number } | null {
  const chunk = bytes.toString('ascii', 12, 16);
  if (chunk === 'VP8X' && bytes.length >= 30) {
    return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  }
  if (chunk === 'VP8L' && bytes.length >= 25) {
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && bytes.length >= 30) {
    return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  }
  return null;
}

/** Returns the image format and size, or null when the bytes are not an image Telegram can process. */
export function sniffImage(bytes: Buffer): ImageInfo | null {
  const size = ((): ImageInfo | null => {
    if (bytes.length >= 24 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      return { format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
    }
    if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      const found = jpegSize(bytes);
      return found === null ? null : { format: 'jpeg', ...found };
    }
    const head = bytes.toString('ascii', 0, 6);
    if ((head === 'GIF87a' || head === 'GIF89a') && bytes.length >= 10) {
      return { format: 'gif', width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
    }
    if (bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WEBP') {
      const found = webpSize(bytes);
      return found === null ? null : { format: 'webp', ...found };
    }
    if (bytes.toString('ascii', 0, 2) === 'BM' && bytes.length >= 26) {
      return { format: 'bmp', width: bytes.readInt32LE(18), height: Math.abs(bytes.readInt32LE(22)) };
    }
    return null;
  })();
  if (size === null || size.width <= 0 || size.height <= 0) return null;
  return size;
}

/** Telegram's photo rules: width + height at most 10000, aspect ratio at most 20. */
export const hasValidPhotoDimensions = ({ width, height }: ImageInfo): boolean =>
  width + height <= 10000 && Math.max(width, height) / Math.min(width, height) <= 20;

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  bmp: 'image/bmp', pdf: 'application/pdf', txt: 'text/plain', csv: 'text/csv', json: 'application/json',
  zip: 'application/zip', conf: 'application/octet-stream', ovpn: 'application/x-openvpn-profile',
  rsc: 'application/octet-stream', xml: 'application/xml', html: 'text/html', svg: 'image/svg+xml',
  mp4: 'video/mp4', mp3: 'audio/mpeg', ogg: 'audio/ogg',
};

export function mimeTypeFor(fileName: string): string | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : (MIME_BY_EXTENSION[extension] ?? 'application/octet-stream');
}
