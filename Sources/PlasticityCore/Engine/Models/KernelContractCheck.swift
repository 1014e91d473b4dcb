import PlasticityBase

/// Checks that each vectorised kernel of a model (a C plugin's F, f and declared partials)
/// keeps the contract the step kernels rely on, which calls for one neuron cannot reveal:
/// called for many neurons at once with a distinct value per neuron, output n equals the
/// kernel's value for neuron n alone (a kernel reading v[0] instead of v[i] fails), every
/// output is written (outputs are pre-filled with NaN), nothing is written past `count`, and
/// the input arrays are unchanged afterwards.
enum KernelContractCheck {
    /// Outputs past `count` that must stay untouched.
    static let guardValues = 8
    /// Relative difference allowed between a neuron's value in a call for many and alone (a
    /// vectorised loop may contract or reorder its arithmetic).
    static let tolerance = 1e-9

    /// The first broken contract, as a sentence naming the kernel, or nil.
    static func firstViolation(in neuron: CompiledNeuron, at samples: VerificationSamples) -> String? {
        let graph = neuron.graph
        // One call per distinct kernel and argument list (the siblings of a multi-output F
        // are one call).
        var calls: [(primitive: any VectorizedPrimitive, arguments: [Int])] = []
        var seen = Set<String>()
        for node in graph.nodes.indices {
            guard let primitive = graph.primitive(of: node) as? any VectorizedPrimitive else { continue }
            let arguments = graph.nodes[node].arguments
            if seen.insert("\(primitive.callGroup?.id ?? primitive.key)|\(arguments)").inserted { calls.append((primitive, arguments)) }
        }
        guard !calls.isEmpty else { return nil }
        let argumentNodes = Array(Set(calls.flatMap(\.arguments))).sorted()
        let values = samples.evaluate(argumentNodes.map(graph.symbol), of: neuron)
        let column = Dictionary(uniqueKeysWithValues: zip(argumentNodes, values))
        let count = samples.count
        for (primitive, arguments) in calls {
            let inputs = arguments.map { column[$0]! }
            let outputCount = primitive.callGroup?.outputs ?? 1
            let stride = count + guardValues
            // A copy with storage of its own: the kernel gets it, `inputs` stays the reference.
            let passed = inputs.map { $0.map { $0 } }
            var many: [[Double]] = []
            withPointers(passed) { pointers in
                many = withOutputArrays(outputCount, count: stride, fill: .nan) { primitive.evaluateGroup(count: count, arguments: pointers, into: $0) }
            }
            if let changed = inputs.indices.first(where: { a in !zip(inputs[a], passed[a]).allSatisfy { $0.bitPattern == $1.bitPattern } }) {
                return "\(primitive.kernelDescription) wrote into its input array \(changed) (\(graph.describe(arguments[changed]))); kernels must only read their inputs"
            }
            if let output = many.indices.first(where: { o in many[o][count...].contains { !$0.isNaN } }) {
                return "\(primitive.kernelDescription) wrote past the \(count) values of output \(output) it was given"
            }
            for n in 0..<count {
                var alone: [[Double]] = []
                withPointers(inputs.map { [$0[n]] }) { pointers in
                    alone = withOutputArrays(outputCount, count: 1, fill: .nan) { primitive.evaluateGroup(count: 1, arguments: pointers, into: $0) }
                }
                for o in 0..<outputCount {
                    let together = many[o][n], single = alone[o][0]
                    if together.isNaN && !single.isNaN {
                        return "\(primitive.kernelDescription) left output \(o) of neuron \(n) of \(count) unwritten (it stayed NaN); a kernel must write all `count` values"
                    }
                    let difference = Swift.abs(together - single) / Swift.max(1, Swift.abs(single))
                    if difference > tolerance || together.isNaN != single.isNaN {
                        return "\(primitive.kernelDescription) gives neuron \(n) of \(count) the value \(together) when called for \(count) neurons but \(single) alone; "
                            + "it must read and write element i of every array for neuron i (v[i], not v[0])"
                    }
                }
            }
        }
        return nil
    }
}

extension ExpressionGraph {
    /// A node in words: a variable's name, or the expression's printed form.
    func describe(_ node: Int) -> String {
        if case .variable(let slot) = nodes[node].operation { return variableNames[slot] }
        return "\(symbol(node))"
    }
}
