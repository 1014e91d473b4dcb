import PlasticityBase

/// A primitive that evaluates many elements in one call, such as a C plugin's kernel: the
/// step kernel calls it once per chunk of neurons instead of once per neuron.
public protocol VectorizedPrimitive: Primitive {
    /// output[n] = f(arguments[0][n], arguments[1][n], …) for n in 0..<count.
    func evaluate(count: Int, arguments: [UnsafePointer<Double>], into output: UnsafeMutablePointer<Double>)
    /// When this primitive is output `output` of a call that computes `outputs` values at once
    /// (a C plugin's state update), an identifier shared by its siblings: the step kernel then
    /// makes one call for all of them.
    var callGroup: (id: String, output: Int, outputs: Int)? { get }
    /// The grouped call: every sibling's output at once.
    func evaluateGroup(count: Int, arguments: [UnsafePointer<Double>], into outputs: [UnsafeMutablePointer<Double>])
    /// The kernel in words for errors, e.g. `kernel F (update) of model X`.
    var kernelDescription: String { get }
}

extension VectorizedPrimitive {
    public var kernelDescription: String { "kernel \(name)" }
    public var callGroup: (id: String, output: Int, outputs: Int)? { nil }
    public func evaluateGroup(count: Int, arguments: [UnsafePointer<Double>], into outputs: [UnsafeMutablePointer<Double>]) {
        evaluate(count: count, arguments: arguments, into: outputs[0])
    }
}
