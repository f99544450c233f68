// TensorFlow TensorBundle (a SavedModel's variables/): reading and writing, byte for byte.
export { BundleReader, readBundle } from "./bundle-reader.js";
export { type WriteBundleOptions, writeBundle } from "./bundle-writer.js";
export { dataFilename, indexFilename } from "./naming.js";
export { decodeTensorNameSlice, encodeTensorNameSlice, type SliceExtent } from "./ordered-code.js";
export { PartitionedTensor, type TensorPart } from "./partitioned.js";
