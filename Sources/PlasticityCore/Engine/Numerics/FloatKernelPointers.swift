import PlasticityBase

// Code generic over KernelScalar hands its buffers to a Float C kernel (CKernels) once it has
// found T to be Float: the same memory, seen as Float.
extension UnsafePointer where Pointee: KernelScalar {
    /// These values as Float; only for a Pointee that is Float.
    var floats: UnsafePointer<Float> { UnsafeRawPointer(self).assumingMemoryBound(to: Float.self) }
}

extension UnsafeMutablePointer where Pointee: KernelScalar {
    /// These values as Float; only for a Pointee that is Float.
    var floats: UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: Float.self) }
}
