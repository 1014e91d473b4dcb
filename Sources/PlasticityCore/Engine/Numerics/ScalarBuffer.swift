import PlasticityBase

/// A zero-initialised array of scalars with a stable address, owned by the rules and the
/// forward pass so their hot loops work on raw pointers without copy-on-write checks.
public final class ScalarBuffer<T: KernelScalar> {
    public let pointer: UnsafeMutablePointer<T>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    /// A copy of `values`.
    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        pointer.update(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public subscript(_ index: Int) -> T {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Bytes held, for memory accounting.
    public var bytes: Int { count * MemoryLayout<T>.stride }
}
