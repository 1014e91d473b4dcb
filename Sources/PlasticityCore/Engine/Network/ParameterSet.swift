import Foundation
import PlasticityBase

/// Weights and biases — or their gradients, or an optimiser's moments, which have the same
/// layout: named tensors in the network's order (`Network.tensors`), each row-major with the
/// postsynaptic index first (as PyTorch's `Linear.weight`). The names are those of `.npz`
/// files and checkpoints (Documentation/Networks.md).
public struct ParameterSet<T: KernelScalar>: Equatable {
    public private(set) var names: [String]
    private var values: [[T]]
    private var index: [String: Int]

    /// Tensors in the given order.
    public init(_ tensors: [(name: String, values: [T])]) {
        names = tensors.map(\.name)
        values = tensors.map(\.values)
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, $0.offset) })
    }

    /// All zeros, shaped for `network`.
    public init(zerosFor network: Network) {
        self.init(network.tensors.map { ($0.name, [T](repeating: 0, count: $0.count)) })
    }

    /// Zeros shaped like `other`.
    public init(zerosLike other: ParameterSet) {
        self.init(other.named.map { ($0.name, [T](repeating: 0, count: $0.values.count)) })
    }

    /// The usual initialisation of the field: Gaussian weights scaled by gain/√(source size)
    /// (the input gain for within-step projections, the recurrent gain for delayed ones,
    /// unless a projection states its own), a population's delayed projection onto itself
    /// without self-connections, masked entries zero, zero biases, trained neuron parameters
    /// at their populations' initial values. Deterministic for a seed; tensors are drawn in
    /// the network's order.
    public init(randomFor network: Network, seed: UInt64, inputGain: Double = 1, recurrentGain: Double = 1) {
        self.init(zerosFor: network)
        var generator = SeededGenerator(seed: seed)
        func gaussian(_ count: Int, scale: Double) -> [T] {
            (0..<count).map { _ in T(generator.nextGaussian() * scale) }
        }
        for projection in network.projections {
            let rows = network.populations[projection.target].size, columns = network.size(of: projection.source)
            let gain = projection.gain ?? (projection.delayed ? recurrentGain : inputGain)
            var weights = gaussian(rows * columns, scale: gain / Double(columns).squareRoot())
            if projection.delayed, projection.source == .population(projection.target) {
                for j in 0..<rows { weights[j * columns + j] = 0 }
            }
            if let mask = projection.mask { for index in weights.indices where !mask[index] { weights[index] = 0 } }
            self[projection.name] = weights
        }
        let read = Double(network.readNeuronCount).squareRoot()
        for source in network.readout.sources {
            self[network.readoutWeightName(source)] = gaussian(network.outputs * network.populations[source].size, scale: 1 / read)
        }
        setInitialNeuronParameters(of: network)
    }

    /// Sets every trained neuron parameter to the population's initial values.
    public mutating func setInitialNeuronParameters(of network: Network) {
        for trained in network.trainedNeuronParameters { self[trained.tensor] = trained.parameter.values.map { T($0) } }
    }

    /// The tensor named `name` (which must exist; see `contains`). Setting keeps its size.
    public subscript(name: String) -> [T] {
        get { values[index[name]!] }
        set {
            let position = index[name]!
            precondition(newValue.count == values[position].count, "tensor \(name) has \(values[position].count) values, not \(newValue.count)")
            values[position] = newValue
        }
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Every tensor by name, in order.
    public var named: [(name: String, values: [T])] { Array(zip(names, values)) }

    /// All values in order.
    public var flattened: [T] { values.flatMap { $0 } }

    /// Calls `body` once per tensor with its values and the matching tensors of `others`
    /// (sets with this set's layout), so that an optimiser's loops run over plain buffers.
    public mutating func updateTensors(with others: [ParameterSet], _ body: (_ values: UnsafeMutableBufferPointer<T>, _ others: [UnsafeBufferPointer<T>]) -> Void) {
        func withBuffers(_ arrays: ArraySlice<[T]>, _ gathered: [UnsafeBufferPointer<T>], _ body: ([UnsafeBufferPointer<T>]) -> Void) {
            guard let first = arrays.first else { return body(gathered) }
            first.withUnsafeBufferPointer { withBuffers(arrays.dropFirst(), gathered + [$0], body) }
        }
        for tensor in values.indices {
            let matching = others.map { $0.values[tensor] }
            precondition(matching.allSatisfy { $0.count == values[tensor].count }, "tensor \(names[tensor]) has another size in a set updated with it")
            values[tensor].withUnsafeMutableBufferPointer { mine in
                withBuffers(matching[...], []) { body(mine, $0) }
            }
        }
    }

    /// Whether every tensor of `other` is this set's very storage, not merely equal values
    /// (O(tensors)). While either set is kept, its storage is neither reused nor changed in
    /// place (a change copies it first), so the same storage means the same values, bit for bit.
    public func sharesStorage(with other: ParameterSet) -> Bool {
        names == other.names && zip(values, other.values).allSatisfy { mine, theirs in
            mine.count == theirs.count && mine.withUnsafeBufferPointer { a in theirs.withUnsafeBufferPointer { a.baseAddress == $0.baseAddress } }
        }
    }

    /// Whether `other` has the same names and sizes in the same order.
    public func hasLayout(of other: ParameterSet) -> Bool {
        names == other.names && zip(values, other.values).allSatisfy { $0.count == $1.count }
    }

    /// Checks the names and sizes against `network`, naming the first difference.
    public func check(against network: Network) throws {
        let expected = network.tensors
        for tensor in expected where !contains(tensor.name) {
            throw PlasticityError.shapeMismatch(name: tensor.name, expected: "a tensor of \(tensor.rows)×\(tensor.columns) values", found: "none")
        }
        if let extra = names.first(where: { name in !expected.contains { $0.name == name } }) {
            throw PlasticityError.shapeMismatch(name: extra, expected: "no such tensor in this network (it has \(expected.map(\.name).joined(separator: ", ")))", found: "a tensor")
        }
        for tensor in expected where self[tensor.name].count != tensor.count {
            throw PlasticityError.shapeMismatch(name: tensor.name, expected: "\(tensor.rows)×\(tensor.columns) values", found: "\(self[tensor.name].count) values")
        }
    }

    /// ‖g‖₂ over every tensor.
    public var norm: Double { sumOfSquares().squareRoot() }

    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    private func sumOfSquares() -> Double {
        var total = 0.0
        for tensor in values { tensor.withUnsafeBufferPointer { for value in $0 { total += Double(value) * Double(value) } } }
        return total
    }

    /// Multiplies every value by `factor`.
    public mutating func scale(by factor: T) {
        for tensor in values.indices { for element in values[tensor].indices { values[tensor][element] *= factor } }
    }

    /// Adds `other` element by element.
    public mutating func add(_ other: ParameterSet) {
        updateTensors(with: [other]) { values, others in
            for index in values.indices { values[index] += others[0][index] }
        }
    }

    /// Scales the set so that its norm is at most `maximum` (gradient-norm clipping).
    public mutating func clip(norm maximum: Double) {
        let current = norm
        if current > maximum, current > 0 { scale(by: T(maximum / current)) }
    }

    /// Bytes the values occupy.
    public var bytes: Int { values.reduce(0) { $0 + $1.count } * MemoryLayout<T>.stride }

    /// Whether every value is finite; otherwise the name of the first tensor that is not.
    public var firstNonFiniteTensor: String? { firstNonFiniteIndex().map { names[$0] } }

    /// Checked after every update (and every gradient), so the loop runs compiled for the scalar.
    private func firstNonFiniteIndex() -> Int? {
        values.indices.first { tensor in !values[tensor].withUnsafeBufferPointer { ScalarLoops.allFinite($0) } }
    }

    public static func == (lhs: ParameterSet, rhs: ParameterSet) -> Bool { lhs.names == rhs.names && lhs.values == rhs.values }
}

/// Encoded as a list of {name, values} in order, so that checkpoints keep the order.
extension ParameterSet: Codable {
    private struct Tensor: Codable {
        let name: String
        let values: [T]

        init(name: String, values: [T]) {
            self.name = name
            self.values = values
        }

        /// The same JSON as the synthesised encoding, written value by value as Float or Double:
        /// the generic array went through the encoder's dynamic casts per value, 0.6 µs each —
        /// a checkpoint of weights and Adam's moments took 190 ms to encode instead of 45.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            var list = container.nestedUnkeyedContainer(forKey: .values)
            try values.withUnsafeBufferPointer { buffer in
                if T.self == Float.self {
                    try buffer.withMemoryRebound(to: Float.self) { for value in $0 { try list.encode(value) } }
                } else if T.self == Double.self {
                    try buffer.withMemoryRebound(to: Double.self) { for value in $0 { try list.encode(value) } }
                } else {
                    for value in buffer { try list.encode(value) }
                }
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let tensors = try [Tensor](from: decoder)
        guard Set(tensors.map(\.name)).count == tensors.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a tensor name appears twice"))
        }
        self.init(tensors.map { ($0.name, $0.values) })
    }

    public func encode(to encoder: Encoder) throws {
        try named.map { Tensor(name: $0.name, values: $0.values) }.encode(to: encoder)
    }
}

extension Network {
    /// `parameters` with every masked entry set to zero.
    func masked<T>(_ parameters: ParameterSet<T>) -> ParameterSet<T> {
        var result = parameters
        for projection in projections {
            guard let mask = projection.mask else { continue }
            var values = result[projection.name]
            for index in values.indices where !mask[index] { values[index] = 0 }
            result[projection.name] = values
        }
        return result
    }
}
