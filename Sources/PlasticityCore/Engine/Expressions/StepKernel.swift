import CKernels
import RealModule
import PlasticityBase

/// A traced expression program compiled for evaluation over many neurons at once.
///
/// Data is struct-of-arrays: every input and output is a contiguous array with one value per
/// (batch element, neuron). The kernel walks it in cache-sized chunks; within a chunk it runs
/// each instruction as one tight loop, so the cost of interpreting the program is paid once
/// per chunk, not once per neuron, and the forward step and all varying Jacobian entries share
/// their common subexpressions.
public final class StepKernel<T: KernelScalar> {
    /// Values per chunk: small enough that all registers of a typical model stay in L2.
    public static var chunkSize: Int { 256 }

    enum Operation {
        case builtin(BuiltinOp)
        case smoothSpike(any Surrogate)
        case generic(any Primitive)
        /// One call of a multi-output vectorised primitive writing every sibling's register
        /// (`scratchRegister` for outputs nothing reads).
        case group(any VectorizedPrimitive, outputs: [Int])
    }

    struct Instruction {
        let operation: Operation
        let output: Int
        let arguments: [Int]
    }

    /// An instruction as `run` reads it: built-in operations with their registers, the rest
    /// an index into the instructions. It holds no references, so running it copies no
    /// reference counts (retaining and releasing each instruction's existential and argument
    /// array, for every chunk, took 7% of LIF e-prop's step at N = 1024).
    struct Step {
        /// nil: run `instructions[index]`.
        let builtin: BuiltinOp?
        /// The built-in operation's code for the Float kernel in C, if it has one (it has for
        /// every exactly rounded operation, not for exp, log and the like).
        let elementwise: plasticity_elementwise_op?
        let index: Int
        let output: Int
        /// The first three argument registers (0 where there are fewer).
        let a: Int, b: Int, c: Int

        init(_ instruction: Instruction, index: Int) {
            if case .builtin(let op) = instruction.operation { builtin = op } else { builtin = nil }
            elementwise = builtin?.elementwise
            self.index = index
            output = instruction.output
            let arguments = instruction.arguments + [0, 0, 0]
            (a, b, c) = (arguments[0], arguments[1], arguments[2])
        }
    }

    /// The compiled program: instructions over numbered registers.
    struct Program {
        var instructions: [Instruction] = []
        /// `instructions` as `run` reads them, made once they are final.
        var steps: [Step] = []
        var registerCount = 0
        var inputRegisters: [Int] = []
        var outputRegisters: [Int] = []
        var constants: [(register: Int, value: Double)] = []
        /// Whether it calls vectorised primitives (a C plugin's kernels): then every element
        /// runs as one chunk, so each kernel is called once per step for the whole population.
        var callsVectorized = false
    }

    private let program: Program
    /// Elements per chunk: `chunkSize`, or every element when the program calls vectorised
    /// primitives (grown on demand).
    private var chunk = 0
    private var storage: UnsafeMutablePointer<T>
    private var registers: [UnsafeMutablePointer<T>] = []
    /// Double arguments and results of vectorised primitives (one chunk each).
    private var doubleScratch: UnsafeMutablePointer<Double>
    private var doubleSlots = 0

    /// The number of variable arrays `run` reads and output arrays it writes.
    public var inputCount: Int { program.inputRegisters.count }
    public var outputCount: Int { program.outputRegisters.count }
    /// Instructions executed per element: the kernel's arithmetic cost.
    public var instructionCount: Int { program.instructions.count }
    /// Calls into vectorised primitives (a C plugin's kernels) per run: each costs a call
    /// through libffi and Double conversions, whatever the element count.
    public var externalCallCount: Int {
        program.instructions.filter {
            switch $0.operation {
            case .group: return true
            case .generic(let primitive): return primitive is any VectorizedPrimitive
            case .builtin, .smoothSpike: return false
            }
        }.count
    }

    /// Compiles `outputs` of `graph`.
    /// - Parameters:
    ///   - inputSlots: the graph variables supplied as arrays to `run`, in that order.
    ///   - aliases: variables that stand for other expressions of the same graph (for
    ///     instance the new state, read by the spike function, aliased to the state update).
    ///   - spikes: evaluate spikes as Heaviside steps or, for verification, smoothly.
    ///   - frozen: stopGradient values supplied as arrays after the variables (for finite
    ///     differences that hold stopped paths fixed, as the declared derivatives do).
    public init(graph: ExpressionGraph, inputSlots: [Int], aliases: [Int: Sym] = [:], outputs: [Sym], spikes: ExpressionGraph.SpikeMode = .heaviside,
                frozen: [Sym] = []) {
        program = Self.compile(graph: graph, inputSlots: inputSlots, aliases: aliases, outputs: outputs, spikes: spikes, frozen: frozen)
        storage = .allocate(capacity: 1)
        doubleScratch = .allocate(capacity: 1)
        doubleSlots = program.instructions.map { instruction -> Int in
            if case .group(_, let outputs) = instruction.operation { return instruction.arguments.count + outputs.count }
            return instruction.arguments.count + 1
        }.max() ?? 0
        allocate(chunk: Self.chunkSize)
    }

    /// (Re)allocates registers for `chunk` elements per chunk and fills the constants.
    private func allocate(chunk: Int) {
        storage.deallocate()
        doubleScratch.deallocate()
        self.chunk = chunk
        storage = .allocate(capacity: Swift.max(1, program.registerCount * chunk))
        storage.initialize(repeating: 0, count: program.registerCount * chunk)
        registers = (0..<program.registerCount).map { [storage] in storage + $0 * chunk }
        for (register, value) in program.constants {
            registers[register].update(repeating: T(value), count: chunk)
        }
        doubleScratch = .allocate(capacity: Swift.max(1, doubleSlots * chunk))
    }

    /// Orders the nodes that `outputs` need (depth first, so aliases resolve to nodes computed
    /// before their readers) and assigns registers. stopGradient costs nothing: it shares its
    /// argument's register.
    private static func compile(graph: ExpressionGraph, inputSlots: [Int], aliases: [Int: Sym], outputs: [Sym], spikes: ExpressionGraph.SpikeMode,
                                frozen: [Sym]) -> Program {
        var program = Program()
        var registerOfNode: [Int: Int] = [:]
        var inputRegisterOfSlot: [Int: Int] = [:]
        func newRegister() -> Int {
            program.registerCount += 1
            return program.registerCount - 1
        }
        for slot in inputSlots {
            inputRegisterOfSlot[slot] = newRegister()
            program.inputRegisters.append(inputRegisterOfSlot[slot]!)
        }
        for node in frozen.map(graph.node(of:)) {
            registerOfNode[node] = newRegister()
            program.inputRegisters.append(registerOfNode[node]!)
        }
        func register(for node: Int) -> Int {
            if let known = registerOfNode[node] { return known }
            let entry = graph.nodes[node]
            let result: Int
            switch entry.operation {
            case .constant(let value):
                result = newRegister()
                program.constants.append((result, value))
            case .variable(let slot):
                if let input = inputRegisterOfSlot[slot] {
                    result = input
                } else if let alias = aliases[slot] {
                    if let value = alias.graph == nil ? alias.constantValue : nil {
                        result = newRegister()
                        program.constants.append((result, value))
                    } else {
                        result = register(for: graph.node(of: alias))
                    }
                } else {
                    preconditionFailure("variable \(graph.variableNames[slot]) is neither an input nor an alias")
                }
            case .apply(let primitive):
                let arguments = entry.arguments.map(register(for:))
                if primitive as? BuiltinOp == .stopGradient {
                    result = arguments[0]
                } else {
                    result = newRegister()
                    let operation: Operation
                    if let builtin = primitive as? BuiltinOp {
                        operation = .builtin(builtin)
                    } else if let spike = primitive as? SpikePrimitive {
                        operation = spikes == .smooth ? .smoothSpike(spike.surrogate) : .builtin(.heaviside)
                    } else {
                        operation = .generic(primitive)
                    }
                    program.instructions.append(Instruction(operation: operation, output: result, arguments: arguments))
                }
            }
            registerOfNode[node] = result
            return result
        }
        // An output that is an input itself (∂w[t]/∂a = u[t-1], say) is copied into its own
        // register: outputs may overwrite inputs (the state is updated in place), and the
        // copy must read the input before that.
        let inputRegisters = Set(program.inputRegisters)
        program.outputRegisters = outputs.map { output in
            // A free constant gets a register of its own rather than a node: compiling never
            // adds to the graph, which forward passes on other threads may be reading.
            guard output.graph != nil else {
                let constant = newRegister()
                program.constants.append((constant, output.constantValue!))
                return constant
            }
            let source = register(for: graph.node(of: output))
            guard inputRegisters.contains(source) else { return source }
            let copy = newRegister()
            program.instructions.append(Instruction(operation: .builtin(.stopGradient), output: copy, arguments: [source]))
            return copy
        }
        groupSiblingCalls(&program, newRegister: newRegister)
        program.steps = program.instructions.enumerated().map { Step($0.element, index: $0.offset) }
        return program
    }

    /// Replaces the instructions that are outputs of one multi-output call (same group, same
    /// arguments) by a single call at the first one's place; the siblings' arguments are the
    /// same registers, so they are ready there.
    private static func groupSiblingCalls(_ program: inout Program, newRegister: () -> Int) {
        var merged: [Instruction] = []
        var groups: [String: Int] = [:]   // group key → index in `merged`
        for instruction in program.instructions {
            guard case .generic(let primitive as any VectorizedPrimitive) = instruction.operation else {
                merged.append(instruction)
                continue
            }
            program.callsVectorized = true
            guard let group = primitive.callGroup else {
                merged.append(instruction)
                continue
            }
            let key = "\(group.id)|\(instruction.arguments)"
            if let index = groups[key], case .group(let first, var outputs) = merged[index].operation {
                outputs[group.output] = instruction.output
                merged[index] = Instruction(operation: .group(first, outputs: outputs), output: merged[index].output, arguments: instruction.arguments)
            } else {
                var outputs = (0..<group.outputs).map { _ in -1 }
                outputs[group.output] = instruction.output
                groups[key] = merged.count
                merged.append(Instruction(operation: .group(primitive, outputs: outputs), output: instruction.output, arguments: instruction.arguments))
            }
        }
        // Outputs nothing reads still need somewhere to go.
        for index in merged.indices {
            if case .group(let primitive, let outputs) = merged[index].operation, outputs.contains(-1) {
                let filled = outputs.map { $0 == -1 ? newRegister() : $0 }
                merged[index] = Instruction(operation: .group(primitive, outputs: filled), output: merged[index].output, arguments: merged[index].arguments)
            }
        }
        program.instructions = merged
    }

    deinit {
        storage.deallocate()
        doubleScratch.deallocate()
    }

    /// Evaluates the program for `count` elements: `inputs[i]` and `outputs[o]` each point to
    /// `count` values.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func run(inputs: [UnsafePointer<T>], outputs: [UnsafeMutablePointer<T>], count: Int) {
        precondition(inputs.count == inputCount && outputs.count == outputCount, "kernel called with the wrong number of arrays")
        if program.callsVectorized, count > chunk { allocate(chunk: count) }
        var start = 0
        while start < count {
            let n = Swift.min(chunk, count - start)
            for (slot, register) in program.inputRegisters.enumerated() {
                registers[register] = UnsafeMutablePointer(mutating: inputs[slot] + start)
            }
            program.steps.withUnsafeBufferPointer { steps in
                registers.withUnsafeBufferPointer { registers in
                    for step in steps {
                        if T.self == Float.self, let code = step.elementwise {
                            // The same operation in C, cloned for the CPU's vector width (this
                            // build's is SSE2's).
                            plasticity_elementwise_float(Int32(code.rawValue), registers[step.output].floats, registers[step.a].floats,
                                                         registers[step.b].floats, registers[step.c].floats, n)
                        } else if let op = step.builtin {
                            Self.run(op, registers[step.output], registers[step.a], registers[step.b], registers[step.c], n)
                        } else {
                            execute(program.instructions[step.index], n)
                        }
                    }
                }
            }
            for (index, register) in program.outputRegisters.enumerated() {
                (outputs[index] + start).update(from: registers[register], count: n)
            }
            start += n
        }
    }

    /// o = op(a, b, c) for n elements (arguments an operation does not take are ignored).
    @inline(__always)
    private static func run(_ op: BuiltinOp, _ o: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                            _ c: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .add: binary(o, a, b, n) { $0 + $1 }
        case .subtract: binary(o, a, b, n) { $0 - $1 }
        case .multiply: binary(o, a, b, n) { $0 * $1 }
        case .divide: binary(o, a, b, n) { $0 / $1 }
        case .minimum: binary(o, a, b, n) { Swift.min($0, $1) }
        case .maximum: binary(o, a, b, n) { Swift.max($0, $1) }
        case .less: binary(o, a, b, n) { $0 < $1 ? 1 : 0 }
        case .lessOrEqual: binary(o, a, b, n) { $0 <= $1 ? 1 : 0 }
        case .greater: binary(o, a, b, n) { $0 > $1 ? 1 : 0 }
        case .greaterOrEqual: binary(o, a, b, n) { $0 >= $1 ? 1 : 0 }
        case .negate: unary(o, a, n) { -$0 }
        case .abs: unary(o, a, n) { Swift.abs($0) }
        case .heaviside: unary(o, a, n) { $0 > 0 ? 1 : 0 }
        case .stopGradient: unary(o, a, n) { $0 }
        case .select:
            for i in 0..<n { o[i] = a[i] != 0 ? b[i] : c[i] }
        case .exp, .log, .tanh, .sigmoid, .atan, .sqrt:
            unary(o, a, n) { op.evaluate($0, 0, 0) }
        }
    }

    /// The instructions that are not built-in operations (`Step`).
    private func execute(_ instruction: Instruction, _ n: Int) {
        let o = registers[instruction.output]
        let args = instruction.arguments
        switch instruction.operation {
        case .builtin:
            preconditionFailure("built-in operations run from their Step")
        case .smoothSpike(let surrogate):
            let a = registers[args[0]]
            for i in 0..<n { o[i] = T(surrogate.antiderivative(Double(a[i]))) }
        case .generic(let primitive as any VectorizedPrimitive):
            callVectorized(primitive, args, [instruction.output], n)
        case .group(let primitive, let outputs):
            callVectorized(primitive, args, outputs, n)
        case .generic(let primitive):
            var values = [Double](repeating: 0, count: args.count)
            for i in 0..<n {
                for (k, register) in args.enumerated() { values[k] = Double(registers[register][i]) }
                o[i] = T(primitive.value(values))
            }
        }
    }

    /// Converts the arguments to Double, makes one call for all `outputs`, converts back.
    private func callVectorized(_ primitive: any VectorizedPrimitive, _ args: [Int], _ outputs: [Int], _ n: Int) {
        for (k, register) in args.enumerated() {
            let source = registers[register], target = doubleScratch + k * chunk
            for i in 0..<n { target[i] = Double(source[i]) }
        }
        let arguments = (0..<args.count).map { UnsafePointer(doubleScratch + $0 * chunk) }
        let results = (0..<outputs.count).map { doubleScratch + (args.count + $0) * chunk }
        primitive.evaluateGroup(count: n, arguments: arguments, into: results)
        for (result, register) in zip(results, outputs) {
            let o = registers[register]
            for i in 0..<n { o[i] = T(result[i]) }
        }
    }

    @inline(__always)
    private static func binary(_ o: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T) {
        for i in 0..<n { o[i] = f(a[i], b[i]) }
    }

    @inline(__always)
    private static func unary(_ o: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
        for i in 0..<n { o[i] = f(a[i]) }
    }
}

private extension BuiltinOp {
    /// This operation's code for `plasticity_elementwise_float`: the operations that round
    /// exactly, so that C at any vector width gives `evaluate`'s bits.
    var elementwise: plasticity_elementwise_op? {
        switch self {
        case .add: return PLASTICITY_ADD
        case .subtract: return PLASTICITY_SUBTRACT
        case .multiply: return PLASTICITY_MULTIPLY
        case .divide: return PLASTICITY_DIVIDE
        case .minimum: return PLASTICITY_MINIMUM
        case .maximum: return PLASTICITY_MAXIMUM
        case .less: return PLASTICITY_LESS
        case .lessOrEqual: return PLASTICITY_LESS_OR_EQUAL
        case .greater: return PLASTICITY_GREATER
        case .greaterOrEqual: return PLASTICITY_GREATER_OR_EQUAL
        case .negate: return PLASTICITY_NEGATE
        case .abs: return PLASTICITY_ABS
        case .heaviside: return PLASTICITY_HEAVISIDE
        case .stopGradient: return PLASTICITY_COPY
        case .select: return PLASTICITY_SELECT
        case .exp, .log, .tanh, .sigmoid, .atan, .sqrt: return nil
        }
    }
}
