import CFFI
import CPluginABI
import PlasticityBase

/// A C plugin's kernel, called through libffi with a call interface built from the model's
/// descriptor: `count`, k state arrays, (for update kernels) the previous spike and the
/// current, P parameters — by value (ABI 1) or as per-neuron arrays (ABI 2, where they are
/// inputs like the state) — then the output arrays.
final class NativeKernel: @unchecked Sendable {
    enum Signature {
        /// F or one of its partials: inputs h…, z[t-1], I[t].
        case update(outputs: Int)
        /// f or one of its partials: inputs h[t]….
        case spikeArgument
        /// A partial that is a function of the parameters only (ABI 3): inputs θ….
        case parameters

        var isUpdate: Bool { if case .update = self { return true } else { return false } }
    }

    let function: UnsafeMutableRawPointer
    let signature: Signature
    /// The kernel in words, e.g. `kernel F (update) of model X`.
    let label: String
    let stateCount: Int
    /// Parameters passed by value (ABI 1); zero when they are arrays among the inputs.
    let parameterCount: Int
    /// Parameter arrays among the inputs, after the state (and spike and current) ones (ABI 2).
    let parameterArrays: Int
    /// Behind a pointer, so that threads calling the kernel at once only read it (a stored
    /// property passed inout would be an exclusive access).
    private let cif = UnsafeMutablePointer<ffi_cif>.allocate(capacity: 1)
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>

    var inputCount: Int {
        Self.inputCount(signature, stateCount: stateCount, parameterArrays: parameterArrays)
    }

    private static func inputCount(_ signature: Signature, stateCount: Int, parameterArrays: Int) -> Int {
        switch signature {
        case .update: return stateCount + 2 + parameterArrays
        case .spikeArgument: return stateCount + parameterArrays
        case .parameters: return parameterArrays
        }
    }

    var outputCount: Int {
        switch signature {
        case .update(let outputs): return outputs
        case .spikeArgument, .parameters: return 1
        }
    }

    /// - Parameter parametersPerNeuron: ABI 2: the parameters are arrays, one value per neuron.
    init(function: UnsafeMutableRawPointer, signature: Signature, label: String, stateCount: Int, parameterCount: Int, parametersPerNeuron: Bool) throws {
        self.function = function
        self.label = label
        self.signature = signature
        self.stateCount = stateCount
        self.parameterCount = parametersPerNeuron ? 0 : parameterCount
        parameterArrays = parametersPerNeuron ? parameterCount : 0
        let inputs = Self.inputCount(signature, stateCount: stateCount, parameterArrays: parameterArrays)
        let parameterCount = self.parameterCount
        let outputs: Int
        if case .update(let n) = signature { outputs = n } else { outputs = 1 }
        let count = 1 + inputs + parameterCount + outputs
        argumentTypes = .allocate(capacity: count)
        argumentTypes[0] = plasticity_ffi_size()
        for index in 0..<inputs { argumentTypes[1 + index] = plasticity_ffi_pointer() }
        for index in 0..<parameterCount { argumentTypes[1 + inputs + index] = plasticity_ffi_double() }
        for index in 0..<outputs { argumentTypes[1 + inputs + parameterCount + index] = plasticity_ffi_pointer() }
        cif.initialize(to: ffi_cif())
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(count), plasticity_ffi_void(), argumentTypes)
        guard status == FFI_OK else {
            throw PlasticityError.invalidModel(model: "C kernel", reason: "libffi cannot build a call interface (status \(status.rawValue))")
        }
    }

    deinit {
        argumentTypes.deallocate()
        cif.deallocate()
    }

    /// Told which kernel is about to run, before every call: set by a process that checks
    /// plugins for a parent, so that a crash or a hang can be blamed on the kernel.
    nonisolated(unsafe) static var willCall: ((String) -> Void)?

    /// Calls the kernel once for `count` neurons.
    func call(count: Int, inputs: [UnsafePointer<Double>], parameters: [Double], outputs: [UnsafeMutablePointer<Double>]) {
        precondition(inputs.count == inputCount && parameters.count == parameterCount && outputs.count == outputCount)
        Self.willCall?(label)
        var countValue = UInt64(count)
        var pointers: [UnsafeRawPointer?] = inputs.map { UnsafeRawPointer($0) } + outputs.map { UnsafeRawPointer($0) }
        var parameterValues = parameters
        withUnsafeMutablePointer(to: &countValue) { countPointer in
            pointers.withUnsafeMutableBufferPointer { pointerSlots in
                parameterValues.withUnsafeMutableBufferPointer { parameterSlots in
                    var values: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(countPointer)]
                    for index in 0..<inputs.count { values.append(UnsafeMutableRawPointer(pointerSlots.baseAddress! + index)) }
                    for index in 0..<parameters.count { values.append(UnsafeMutableRawPointer(parameterSlots.baseAddress! + index)) }
                    for index in 0..<outputs.count { values.append(UnsafeMutableRawPointer(pointerSlots.baseAddress! + inputs.count + index)) }
                    values.withUnsafeMutableBufferPointer { arguments in
                        ffi_call(cif, unsafeBitCast(function, to: (@convention(c) () -> Void).self), nil, arguments.baseAddress)
                    }
                }
            }
        }
    }
}
