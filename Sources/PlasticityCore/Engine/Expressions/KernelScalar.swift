import RealModule
import PlasticityBase

/// The floating-point types kernels and learning rules run in: Float for training speed,
/// Double for verification.
public protocol KernelScalar: Real, BinaryFloatingPoint, Codable {}

extension Float: KernelScalar {}
extension Double: KernelScalar {}
