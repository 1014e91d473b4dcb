import RealModule
import PlasticityBase

/// The floating-point types kernels and learning rules run in: Float for training speed,
/// Double for verification.
public protocol KernelScalar: Real, BinaryFloatingPoint, Codable {}

extension Float: KernelScalar {}
extension Double: KernelScalar {}

/// Loops over values that run compiled for Float or Double whatever the caller. Generic code
/// reached through a protocol requirement or from another module runs unspecialised, a witness
/// call per value: the trainer's per-batch checks of readouts and weights took milliseconds
/// each that way, on the one thread that every other waits for.
public enum ScalarLoops {
    /// `values` as Doubles.
    public static func doubles<T: KernelScalar>(_ values: [T]) -> [Double] {
        values.withUnsafeBufferPointer { buffer in
            if T.self == Float.self { return buffer.withMemoryRebound(to: Float.self) { $0.map(Double.init) } }
            if T.self == Double.self { return buffer.withMemoryRebound(to: Double.self) { Array($0) } }
            return buffer.map { Double($0) }
        }
    }

    /// Whether every value is finite.
    public static func allFinite<T: KernelScalar>(_ values: UnsafeBufferPointer<T>) -> Bool {
        if T.self == Float.self { return values.withMemoryRebound(to: Float.self) { allFinite(concrete: $0) } }
        if T.self == Double.self { return values.withMemoryRebound(to: Double.self) { allFinite(concrete: $0) } }
        return allFinite(concrete: values)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func allFinite<T: BinaryFloatingPoint>(concrete values: UnsafeBufferPointer<T>) -> Bool {
        // Summed without an early exit, so the loop vectorises: a non-finite value makes the sum
        // non-finite (infinities of both signs give NaN).
        var sum: T = 0
        for value in values { sum += value * 0 }
        return sum == 0
    }
}
