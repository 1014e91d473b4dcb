import RealModule

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
    }

    struct Instruction {
        let operation: Operation
        let output: Int
        let arguments: [Int]
    }

    /// The compiled program: instructions over numbered registers.
    struct Program {
        var instructions: [Instruction] = []
        var registerCount = 0
        var inputRegisters: [Int] = []
        var outputRegisters: [Int] = []
        var constants: [(register: Int, value: Double)] = []
    }

    private let program: Program
    private let storage: UnsafeMutablePointer<T>
    private var registers: [UnsafeMutablePointer<T>]
    /// Double arguments and result of vectorised primitives (one chunk each).
    private let doubleScratch: UnsafeMutablePointer<Double>

    /// The number of variable arrays `run` reads and output arrays it writes.
    public var inputCount: Int { program.inputRegisters.count }
    public var outputCount: Int { program.outputRegisters.count }
    /// Instructions executed per element: the kernel's arithmetic cost.
    public var instructionCount: Int { program.instructions.count }

    /// Compiles `outputs` of `graph`.
    /// - Parameters:
    ///   - inputSlots: the graph variables supplied as arrays to `run`, in that order.
    ///   - aliases: variables that stand for other expressions of the same graph (for
    ///     instance the new state, read by the spike function, aliased to the state update).
    ///   - spikes: evaluate spikes as Heaviside steps or, for verification, smoothly.
    public init(graph: ExpressionGraph, inputSlots: [Int], aliases: [Int: Sym] = [:], outputs: [Sym], spikes: ExpressionGraph.SpikeMode = .heaviside) {
        program = Self.compile(graph: graph, inputSlots: inputSlots, aliases: aliases, outputs: outputs, spikes: spikes)
        let chunk = Self.chunkSize
        storage = .allocate(capacity: program.registerCount * chunk)
        storage.initialize(repeating: 0, count: program.registerCount * chunk)
        registers = (0..<program.registerCount).map { [storage] in storage + $0 * chunk }
        for (register, value) in program.constants {
            registers[register].update(repeating: T(value), count: chunk)
        }
        let widest = program.instructions.map(\.arguments.count).max() ?? 0
        doubleScratch = .allocate(capacity: (widest + 1) * chunk)
    }

    /// Orders the nodes that `outputs` need (depth first, so aliases resolve to nodes computed
    /// before their readers) and assigns registers. stopGradient costs nothing: it shares its
    /// argument's register.
    private static func compile(graph: ExpressionGraph, inputSlots: [Int], aliases: [Int: Sym], outputs: [Sym], spikes: ExpressionGraph.SpikeMode) -> Program {
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
                    result = register(for: graph.node(of: alias))
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
        program.outputRegisters = outputs.map { register(for: graph.node(of: $0)) }
        return program
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
        let chunk = Self.chunkSize
        var start = 0
        while start < count {
            let n = Swift.min(chunk, count - start)
            for (slot, register) in program.inputRegisters.enumerated() {
                registers[register] = UnsafeMutablePointer(mutating: inputs[slot] + start)
            }
            for instruction in program.instructions {
                execute(instruction, n)
            }
            for (index, register) in program.outputRegisters.enumerated() {
                (outputs[index] + start).update(from: registers[register], count: n)
            }
            start += n
        }
    }

    @inline(__always)
    private func execute(_ instruction: Instruction, _ n: Int) {
        let o = registers[instruction.output]
        let args = instruction.arguments
        switch instruction.operation {
        case .builtin(let op):
            let a = registers[args[0]]
            switch op {
            case .add: Self.binary(o, a, registers[args[1]], n) { $0 + $1 }
            case .subtract: Self.binary(o, a, registers[args[1]], n) { $0 - $1 }
            case .multiply: Self.binary(o, a, registers[args[1]], n) { $0 * $1 }
            case .divide: Self.binary(o, a, registers[args[1]], n) { $0 / $1 }
            case .minimum: Self.binary(o, a, registers[args[1]], n) { Swift.min($0, $1) }
            case .maximum: Self.binary(o, a, registers[args[1]], n) { Swift.max($0, $1) }
            case .less: Self.binary(o, a, registers[args[1]], n) { $0 < $1 ? 1 : 0 }
            case .lessOrEqual: Self.binary(o, a, registers[args[1]], n) { $0 <= $1 ? 1 : 0 }
            case .greater: Self.binary(o, a, registers[args[1]], n) { $0 > $1 ? 1 : 0 }
            case .greaterOrEqual: Self.binary(o, a, registers[args[1]], n) { $0 >= $1 ? 1 : 0 }
            case .negate: Self.unary(o, a, n) { -$0 }
            case .abs: Self.unary(o, a, n) { Swift.abs($0) }
            case .heaviside: Self.unary(o, a, n) { $0 > 0 ? 1 : 0 }
            case .stopGradient: Self.unary(o, a, n) { $0 }
            case .select:
                let b = registers[args[1]], c = registers[args[2]]
                for i in 0..<n { o[i] = a[i] != 0 ? b[i] : c[i] }
            case .exp, .log, .tanh, .sigmoid, .atan, .sqrt:
                Self.unary(o, a, n) { op.evaluate($0, 0, 0) }
            }
        case .smoothSpike(let surrogate):
            let a = registers[args[0]]
            for i in 0..<n { o[i] = T(surrogate.antiderivative(Double(a[i]))) }
        case .generic(let primitive as any VectorizedPrimitive):
            let doubles = doubleScratch
            for (k, register) in args.enumerated() {
                let source = registers[register], target = doubles + k * Self.chunkSize
                for i in 0..<n { target[i] = Double(source[i]) }
            }
            let result = doubles + args.count * Self.chunkSize
            primitive.evaluate(count: n, arguments: (0..<args.count).map { UnsafePointer(doubles + $0 * Self.chunkSize) }, into: result)
            for i in 0..<n { o[i] = T(result[i]) }
        case .generic(let primitive):
            var values = [Double](repeating: 0, count: args.count)
            for i in 0..<n {
                for (k, register) in args.enumerated() { values[k] = Double(registers[register][i]) }
                o[i] = T(primitive.value(values))
            }
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
