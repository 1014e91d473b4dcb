import Foundation
import PlasticityCore
import Testing

@Suite("SparseAD expressions")
struct SparseADTests {
    let graph = ExpressionGraph(variableNames: ["x", "y", "w"])
    var x: Sym { graph.variable(0) }
    var y: Sym { graph.variable(1) }
    var w: Sym { graph.variable(2) }

    @Test("structural zeros, constants and shared subexpressions are recognised")
    func simplification() {
        #expect((x * 0).constantValue == 0)
        #expect((0 * x + 0).constantValue == 0)
        #expect((x * 1 + 0).description == "x")
        #expect((exp(Sym(0)) * 3).constantValue == 3)
        #expect(select(Sym(1), x, y).description == "x")
        #expect((x - x).constantValue == 0)
        #expect((-(-x)).description == "x")
        let before = graph.nodeCount
        let first = x * y + exp(x)
        let nodesAfterFirst = graph.nodeCount
        let second = exp(x) + y * x
        #expect(graph.nodeCount == nodesAfterFirst, "commuted expression must reuse the same nodes")
        #expect(first.description == second.description)
        #expect(nodesAfterFirst > before)
    }

    @Test("stopGradient blocks the derivative but not the value")
    func stopGradientDerivative() {
        let f = x * stopGradient(y) + y
        let d = graph.derivatives(of: [f], withRespectTo: 1)[0]
        #expect(d.constantValue == 1)
        #expect(graph.evaluate([f], variables: [2, 3, 0])[0] == 9)
    }

    /// Every primitive's declared partials against central differences on random points.
    @Test("derivatives of every primitive match central finite differences", arguments: 0..<12)
    func derivativesMatchFiniteDifferences(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let expression = exp(-x * 0.3) * tanh(y) + sigmoid(x * y) - log(1 + x * x) / (2 + atan(w))
            + min(x, y) * max(y, w) + sqrt(1 + w * w) * abs(y) + select(x > y, x * w, y * y)
        for _ in 0..<20 {
            let point = (0..<3).map { _ in Double.random(in: -2...2, using: &rng) }
            for slot in 0..<3 {
                let analytic = graph.evaluate(graph.derivatives(of: [expression], withRespectTo: slot), variables: point)[0]
                let h = 1e-6
                var plus = point, minus = point
                plus[slot] += h
                minus[slot] -= h
                let numeric = (graph.evaluate([expression], variables: plus)[0] - graph.evaluate([expression], variables: minus)[0]) / (2 * h)
                // A point within h of a kink (min, max, abs, select) has no derivative to compare.
                let nearKink = Swift.abs(point[0] - point[1]) < 1e-4 || Swift.abs(point[1] - point[2]) < 1e-4 || Swift.abs(point[1]) < 1e-4
                if !nearKink {
                    #expect(scaledError(analytic, numeric) < 1e-7, "slot \(slot) at \(point): \(analytic) vs \(numeric)")
                }
            }
        }
    }

    @Test("each surrogate is the derivative of its antiderivative", arguments: SurrogateParser.families)
    func surrogateConsistency(family: String) throws {
        let surrogate = try SurrogateParser.parse(family)
        var rng = SplitMix64(seed: 7)
        let psi = surrogate.derivative(x)
        for _ in 0..<200 {
            let point = Double.random(in: -3...3, using: &rng)
            let h = 1e-6
            let numeric = (surrogate.antiderivative(point + h) - surrogate.antiderivative(point - h)) / (2 * h)
            let analytic = graph.evaluate([psi], variables: [point, 0, 0])[0]
            #expect(Swift.abs(numeric - analytic) < 1e-6, "\(family) at \(point)")
        }
        #expect(graph.evaluate([psi], variables: [0, 0, 0])[0] > 0, "a surrogate must pass gradient at threshold")
    }

    @Test("surrogate specifications parse, and bad ones are refused with the reason")
    func surrogateParsing() throws {
        let triangle = try #require(try SurrogateParser.parse("triangle(dampening=0.5, width=2)") as? TriangleSurrogate)
        #expect(triangle.dampening == 0.5 && triangle.width == 2)
        #expect(throws: PlasticityError.self) { try SurrogateParser.parse("boxcar") }
        do {
            _ = try SurrogateParser.parse("sigmoid(width=3)")
            Issue.record("an unknown surrogate parameter must be refused")
        } catch {
            #expect("\(error)".contains("no parameter 'width'"))
        }
    }

    @Test("the compiled kernel equals the reference evaluator, in Float and Double, across chunk boundaries")
    func kernelMatchesEvaluator() {
        let outputs = [exp(-x * 0.3) * tanh(y) + w, select(x > y, spike(x - y, surrogate: TriangleSurrogate()), stopGradient(w)), Sym(2.5)]
        let count = StepKernel<Double>.chunkSize * 3 + 17
        var rng = SplitMix64(seed: 3)
        let inputs = (0..<3).map { _ in (0..<count).map { _ in Double.random(in: -2...2, using: &rng) } }
        let expected = (0..<count).map { i in graph.evaluate(outputs, variables: inputs.map { $0[i] }) }
        func check<T: KernelScalar>(_: T.Type, tolerance: Double) {
            let kernel = StepKernel<T>(graph: graph, inputSlots: [0, 1, 2], outputs: outputs)
            let typedInputs = inputs.map { Buffer($0.map { T($0) }) }
            let results = (0..<3).map { _ in Buffer<T>(count: count) }
            kernel.run(inputs: typedInputs.map(\.readOnly), outputs: results.map(\.pointer), count: count)
            for i in 0..<count {
                for o in 0..<3 {
                    #expect(scaledError(Double(results[o][i]), expected[i][o]) < tolerance, "output \(o) element \(i)")
                }
            }
        }
        check(Double.self, tolerance: 1e-14)
        check(Float.self, tolerance: 1e-5)
    }

    /// In Float the exactly rounded operations run in a C kernel cloned per vector width; they
    /// must choose as Swift does where IEEE leaves room (min and max of ±0 and NaN) and give its
    /// bits. Every pair of special values, then random ones, across chunk boundaries.
    @Test("Float kernels of the exact operations give Swift's bits, for ±0, ±∞, NaN, subnormals and random values")
    func exactOperationsGiveSwiftsBits() {
        let special: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, 0.5, 3]
        let pairs = special.flatMap { a in special.map { (a, $0) } }
        let count = StepKernel<Float>.chunkSize * 2 + 13
        var rng = SplitMix64(seed: 9)
        let columns: [[Float]] = (0..<count).map { i in
            let random = { Float(Double.random(in: -4...4, using: &rng)) }
            guard i < pairs.count else { return [random(), random(), random()] }
            return [pairs[i].0, pairs[i].1, special[i % special.count]]
        }
        let reference: [(Sym, (Float, Float, Float) -> Float)] = [
            (x + y, { a, b, _ in a + b }), (x - y, { a, b, _ in a - b }), (x * y, { a, b, _ in a * b }), (x / y, { a, b, _ in a / b }),
            (min(x, y), { a, b, _ in Swift.min(a, b) }), (max(x, y), { a, b, _ in Swift.max(a, b) }),
            (x < y, { a, b, _ in a < b ? 1 : 0 }), (x <= y, { a, b, _ in a <= b ? 1 : 0 }),
            (x > y, { a, b, _ in a > b ? 1 : 0 }), (x >= y, { a, b, _ in a >= b ? 1 : 0 }),
            (-x, { a, _, _ in -a }), (abs(x), { a, _, _ in Swift.abs(a) }), (heaviside(x), { a, _, _ in a > 0 ? 1 : 0 }),
            (stopGradient(x) * y, { a, b, _ in a * b }), (select(x, y, w), { a, b, c in a != 0 ? b : c }),
        ]
        let kernel = StepKernel<Float>(graph: graph, inputSlots: [0, 1, 2], outputs: reference.map(\.0))
        let inputs = (0..<3).map { v in Buffer(columns.map { $0[v] }) }
        let results = reference.map { _ in Buffer<Float>(count: count) }
        kernel.run(inputs: inputs.map(\.readOnly), outputs: results.map(\.pointer), count: count)
        for (o, (expression, evaluate)) in reference.enumerated() {
            for i in 0..<count {
                let (got, expected) = (results[o][i], evaluate(columns[i][0], columns[i][1], columns[i][2]))
                #expect(got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN),
                        "\(expression) at \(columns[i]): \(got), Swift gives \(expected)")
            }
        }
    }
}
