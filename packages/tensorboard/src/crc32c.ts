// CRC-32C (Castagnoli), the checksum of TFRecord files: reflected polynomial 0x82F63B78,
// initial value and final xor 0xFFFFFFFF (RFC 3720, iSCSI). One 256-entry table, built once.
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** TensorFlow's constant added after the rotation (`kMaskDelta` in tensorflow/core/lib/hash/crc32c.h). */
const MASK_DELTA = 0xa282ead8;

/**
 * The CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer. This is the checksum
 * TFRecord files carry (masked, see `maskCrc`); the standard check value of "123456789" is
 * 0xE3069283.
 *
 * @example
 * crc32c(new TextEncoder().encode('123456789')).toString(16); // 'e3069283'
 */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * TensorFlow's masked form of a CRC: rotated right by 15 bits plus 0xa282ead8 (mod 2^32). A
 * TFRecord stores masked CRCs so that a CRC computed over data that itself embeds CRCs stays
 * well distributed.
 *
 * @example
 * maskCrc(crc32c(bytes)); // what a TFRecord header or footer holds
 */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/**
 * The inverse of `maskCrc`, for reading a stored masked CRC back as the plain CRC-32C.
 *
 * @example
 * unmaskCrc(maskCrc(0x12345678)) === 0x12345678; // true
 */
export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/**
 * The masked CRC-32C of `bytes`, as written in TFRecord framing.
 *
 * @example
 * maskedCrc32c(payload); // = maskCrc(crc32c(payload))
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}
