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
        if T.self == Float.self { return values.withMemoryRebound(to: UInt32.self) { allFinite(bits: $0, exponent: 0x7F80_0000) } }
        if T.self == Double.self { return values.withMemoryRebound(to: UInt64.self) { allFinite(bits: $0, exponent: 0x7FF0_0000_0000_0000) } }
        return values.allSatisfy(\.isFinite)
    }

    /// Whether no value has every `exponent` bit set (infinity, NaN), by an OR over the values
    /// that vectorises: adding the exponent's lowest bit to an all-ones exponent carries into
    /// the sign bit, and only then. (A sum of value × 0 also finds them, but its chain of
    /// dependent additions ran at one value per four cycles.)
    @_specialize(where B == UInt32)
    @_specialize(where B == UInt64)
    private static func allFinite<B: FixedWidthInteger & UnsignedInteger>(bits values: UnsafeBufferPointer<B>, exponent: B) -> Bool {
        let carry = exponent & (~exponent &+ 1), sign = ~(B.max >> 1)
        var any: B = 0
        for value in values { any |= (value & exponent) &+ carry }
        return any & sign == 0
    }
}
