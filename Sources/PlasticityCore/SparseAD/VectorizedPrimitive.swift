/// A primitive that evaluates many elements in one call, such as a C plugin's kernel: the
/// step kernel calls it once per chunk of neurons instead of once per neuron.
public protocol VectorizedPrimitive: Primitive {
    /// output[n] = f(arguments[0][n], arguments[1][n], …) for n in 0..<count.
    func evaluate(count: Int, arguments: [UnsafePointer<Double>], into output: UnsafeMutablePointer<Double>)
}
