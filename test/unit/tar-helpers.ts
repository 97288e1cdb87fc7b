/** Tar archives written by the tests themselves (no tar binary needed). */

/** A ustar header block (GNU long names and pax records are members of type L and x). */
export function tarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'latin1');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0').slice(-11)}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** A member: its header, its data, padding to the next block. */
export function tarMember(name: string, data: Buffer, type = '0'): Buffer {
  return Buffer.concat([tarHeader(name, data.length, type), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A whole archive of regular files, with its two zero end blocks. */
export const tarOf = (members: readonly [string, Buffer][]) =>
  Buffer.concat([...members.map(([n, d]) => tarMember(n, d)), Buffer.alloc(1024)]);
