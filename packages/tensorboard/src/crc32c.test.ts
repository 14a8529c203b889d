import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from './crc32c.js';
import { bitwiseCrc32c, tfMask } from './test-support/schema-decoder.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  // the check value of CRC-32C, and the iSCSI test vectors of RFC 3720, appendix B.4
  it.each([
    ['"123456789"', ascii('123456789'), 0xe3069283],
    ['empty', new Uint8Array(0), 0],
    ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
    ['32 bytes 0xFF', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ['bytes 0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ['bytes 31..0', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ])('of %s is the published value', (_name, bytes, expected) => {
    expect(crc32c(bytes)).toBe(expected);
    expect(bitwiseCrc32c(bytes)).toBe(expected); // the tests' own decoder agrees on the vectors too
  });

  it('matches a bitwise implementation on random data of every length up to 300', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 300; n++) {
      const bytes = Uint8Array.from({ length: n }, next);
      expect(crc32c(bytes)).toBe(bitwiseCrc32c(bytes));
    }
  });

  it("masks as TensorFlow's crc32c::Mask and unmasks back", () => {
    for (const crc of [0, 1, 0xe3069283, 0xffffffff, 0x80000000, 0x12345678]) {
      expect(maskCrc(crc)).toBe(tfMask(crc));
      expect(unmaskCrc(maskCrc(crc))).toBe(crc);
      expect(unmaskCrc(unmaskCrc(maskCrc(maskCrc(crc))))).toBe(crc);
    }
    expect(maskCrc(0)).toBe(0xa282ead8);
    // rotate right by 15 of 0xE3069283 = 0x2507C60D; + 0xa282ead8 = 0xC78AB0E5
    expect(maskedCrc32c(ascii('123456789'))).toBe(0xc78ab0e5);
  });
});
