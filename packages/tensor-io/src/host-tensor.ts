/**
 * A tensor's values on the host, as the readers return them and the writers take them: row-major
 * `data` (a typed array, or any array of numbers) and its `shape`. A TensorFlow.js model turns it
 * into a tensor with `tf.tensor(t.data, t.shape)`.
 *
 * @example
 * const bias: HostTensor = { shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) };
 */
export interface HostTensor {
  shape: number[];
  data: ArrayLike<number>;
}
