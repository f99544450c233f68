/** File names of a bundle, as TF's tensor_bundle/naming.cc builds them from a prefix. */

/** `<prefix>.index`, the table of entries. */
export const indexFilename = (prefix: string): string => `${prefix}.index`;

/** `<prefix>.data-00000-of-00001`: shard ids and counts are zero-padded to five digits. */
export const dataFilename = (prefix: string, shard: number, numShards: number): string =>
  `${prefix}.data-${String(shard).padStart(5, "0")}-of-${String(numShards).padStart(5, "0")}`;
