// Reads a QR code PNG back to text the way a phone camera would (pngjs + jsQR), so tests can check
// that what the bots send decodes to exactly the config that was meant.
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is a CommonJS bundle whose typings declare `export default`; under NodeNext the default
// import is module.exports, which carries the function both as itself and as `.default`.
const jsQR = jsQRModule.default;

/** The text in the QR code of a PNG; throws if the image holds no readable QR code. */
export function decodeQrPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const code = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height, {
    inversionAttempts: 'dontInvert',
  });
  if (code === null) throw new Error(`no QR code found in ${image.width}x${image.height} PNG`);
  // The raw bytes, decoded as UTF-8 here: jsQR's own `data` guesses the byte mode's charset.
  return Buffer.from(code.binaryData).toString('utf8');
}
