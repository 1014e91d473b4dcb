import Foundation
import PlasticityBase

/// A network described in a JSON file (Documentation/Networks.md):
///
/// ```json
/// { "inputs": 40, "outputs": 3,
///   "populations": [{"name": "hidden1", "model": "ALIF", "size": 64,
///                    "parameters": {"tauMembrane": "uniform(5,50)", "beta": 1.8, "threshold": [1, 1.1, …]},
///                    "train": ["tauMembrane", "beta:shared"],
///                    "surrogate": "fast-sigmoid(slope=25)", "bias": true}, …],
///   "projections": [{"source": "input", "target": "hidden1"},
///                   {"source": "hidden1", "target": "hidden1", "kind": "recurrent", "gain": 1,
///                    "mask": {"density": 0.2, "seed": 7}, "name": "hidden1.recurrent"}, …],
///   "readout": {"from": ["hidden2"], "decay": 0.0} }
/// ```
///
/// `inputs` and `outputs` are optional when the data states them. Every key is checked: an
/// unknown one is refused with the nearest known one, so a typo never silently falls back to
/// a default.
public struct NetworkFile {
    public struct PopulationEntry {
        public let name: String
        public let model: String
        public let size: Int
        /// Numbers, lists (one value per neuron) and `ParameterSource` strings; an `.npz`
        /// path is relative to the network file.
        public let parameters: [String: ParameterSource]
        /// Trained parameter → per neuron (true) or shared.
        public let trained: [String: Bool]
        public let surrogate: String?
        public let bias: Bool
    }

    public let path: String
    public let inputs: Int?
    public let outputs: Int?
    public let populations: [PopulationEntry]
    public let projections: [ProjectionDescription]
    public let readoutSources: [String]
    public let readoutDecay: Double

    /// Files larger than this are refused before they are read.
    static let maximumBytes = 64 << 20
    /// Sizes larger than this are refused (a population of 2²⁴ neurons needs terabytes of weights).
    static let maximumSize = 1 << 24

    /// Reads and checks the file's structure (models are resolved by `build`).
    public static func load(_ path: String) throws -> NetworkFile {
        func fail(_ reason: String) -> PlasticityError { .invalidConfiguration("network file \(path): \(reason)") }
        let size: Int
        switch RegularFile.size(at: path) {
        case .success(let bytes): size = bytes
        case .failure(.notRegular): throw fail("is not a regular file")
        case .failure(let problem): throw fail("cannot be read (\(problem.reason))")
        }
        guard size <= maximumBytes else { throw fail("is \(size) bytes, more than a network file needs (limit \(maximumBytes))") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot be read") }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw fail("is not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"))")
        }
        return try NetworkFile(path: path, root: JSONValue(root, at: "the file", fail: fail))
    }

    private init(path: String, root: JSONValue) throws {
        self.path = path
        let top = try root.object(keys: ["inputs", "outputs", "populations", "projections", "readout"])
        inputs = try top["inputs"].map { try $0.integer(in: 1...Self.maximumSize) }
        outputs = try top["outputs"].map { try $0.integer(in: 1...Self.maximumSize) }
        guard let populationList = top["populations"] else { throw root.fail("has no \"populations\"") }
        populations = try populationList.array().map { entry in
            let fields = try entry.object(keys: ["name", "model", "size", "parameters", "train", "surrogate", "bias"])
            guard let name = fields["name"], let model = fields["model"], let size = fields["size"] else {
                throw entry.fail("needs \"name\", \"model\" and \"size\"")
            }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            let parameters = try fields["parameters"].map { value in
                try value.object(keys: nil).mapValues { try Self.parameterSource($0, relativeTo: directory) }
            } ?? [:]
            let trained: [String: Bool]
            do {
                trained = try PopulationSettings.parseTrained(try fields["train"]?.array().map { try $0.string() } ?? [])
            } catch PlasticityError.invalidConfiguration(let reason) {
                throw fields["train"]!.fail("is wrong: \(reason)")
            }
            return PopulationEntry(name: try name.string(), model: try model.string(), size: try size.integer(in: 1...Self.maximumSize),
                                   parameters: parameters, trained: trained, surrogate: try fields["surrogate"]?.string(), bias: try fields["bias"]?.boolean() ?? true)
        }
        guard let projectionList = top["projections"] else { throw root.fail("has no \"projections\"") }
        projections = try projectionList.array().map { entry in
            let fields = try entry.object(keys: ["name", "source", "target", "kind", "gain", "mask"])
            guard let source = fields["source"], let target = fields["target"] else { throw entry.fail("needs \"source\" and \"target\"") }
            let kind = try fields["kind"]?.string() ?? "feedforward"
            guard ["feedforward", "recurrent"].contains(kind) else {
                throw fields["kind"]!.fail("must be \"feedforward\" (within the step) or \"recurrent\" (delayed by one step), not \"\(kind)\"")
            }
            return ProjectionDescription(name: try fields["name"]?.string(), source: try source.string(), target: try target.string(),
                                         delayed: kind == "recurrent", gain: try fields["gain"]?.number(), mask: nil)
        }
        masks = try projectionList.array().map { entry in try entry.object(keys: nil)["mask"].map(MaskEntry.init) }
        guard let readout = top["readout"] else { throw root.fail("has no \"readout\"") }
        let readoutFields = try readout.object(keys: ["from", "decay"])
        guard let from = readoutFields["from"] else { throw readout.fail("needs \"from\": the populations it reads") }
        readoutSources = try from.array().map { try $0.string() }
        readoutDecay = try readoutFields["decay"]?.number() ?? 0
    }

    /// A parameter's value as the file states it: a number, a list of numbers, or a string
    /// in `ParameterSource` syntax.
    private static func parameterSource(_ value: JSONValue, relativeTo directory: URL) throws -> ParameterSource {
        if let list = try? value.array() { return .list(try list.map { try $0.number() }) }
        if let number = try? value.number() { return .constant(number) }
        let text: String
        do { text = try value.string() } catch { throw value.fail("must be a number, a list of numbers, or a string: \(ParameterSource.forms)") }
        do {
            let source = try ParameterSource.parse(text)
            if case .array(let file, let name) = source, !file.hasPrefix("/") {
                return .array(path: directory.appendingPathComponent(file).path, name: name)
            }
            return source
        } catch PlasticityError.invalidConfiguration(let reason) {
            throw value.fail("is wrong: \(reason)")
        }
    }

    /// A projection's mask as the file states it.
    enum MaskEntry {
        /// Each synapse present with this probability, drawn from the seed.
        case random(density: Double, seed: UInt64)
        /// Neuron i of the source to neuron i of the target only (equal sizes).
        case oneToOne

        init(_ value: JSONValue) throws {
            if let text = try? value.string() {
                guard text == "one-to-one" else { throw value.fail("must be \"one-to-one\" or {\"density\": p, \"seed\": s}, not \"\(text)\"") }
                self = .oneToOne
                return
            }
            let fields = try value.object(keys: ["density", "seed"])
            guard let density = fields["density"] else { throw value.fail("needs \"density\" (the fraction of synapses present)") }
            let p = try density.number()
            guard p > 0, p <= 1 else { throw density.fail("must be in (0, 1], got \(p)") }
            self = .random(density: p, seed: UInt64(try fields["seed"]?.integer(in: 0...(1 << 53)) ?? 0))
        }

        func mask(rows: Int, columns: Int) throws -> [Bool] {
            switch self {
            case .oneToOne:
                guard rows == columns else {
                    throw PlasticityError.invalidConfiguration("a one-to-one mask needs equal sizes, got \(rows)×\(columns)")
                }
                return (0..<(rows * columns)).map { $0 / columns == $0 % columns }
            case .random(let density, let seed):
                var generator = SeededGenerator(seed: seed)
                return (0..<(rows * columns)).map { _ in Double.random(in: 0..<1, using: &generator) < density }
            }
        }
    }

    private let masks: [MaskEntry?]

    /// The network, with each population's model compiled from `registry` at its parameters
    /// and surrogate. `inputs` and `outputs` come from the data when it states them (and must
    /// then agree with the file's), else from the file. Distributions draw from `seed`;
    /// `loadArray` reads `.npz` arrays of per-neuron values.
    public func build(registry: ModelRegistry, inputs dataInputs: Int?, outputs dataOutputs: Int?, seed: UInt64 = 1,
                      loadArray: (_ path: String, _ name: String) throws -> [Double] = { path, _ in
                          throw PlasticityError.invalidConfiguration("no reader for parameter arrays was given (\(path))")
                      }) throws -> Network {
        func resolve(_ name: String, file: Int?, data: Int?) throws -> Int {
            switch (file, data) {
            case let (file?, data?) where file != data:
                throw PlasticityError.invalidConfiguration("network file \(path) states \(file) \(name), the data has \(data)")
            case let (_, data?): return data
            case let (file?, nil): return file
            case (nil, nil): throw PlasticityError.invalidConfiguration("network file \(path) does not state \"\(name)\" and there is no data to take it from")
            }
        }
        let inputCount = try resolve("inputs", file: inputs, data: dataInputs)
        let outputCount = try resolve("outputs", file: outputs, data: dataOutputs)
        let compiled = try populations.map { entry -> Network.Population in
            let settings = PopulationSettings(sources: entry.parameters, trained: entry.trained, surrogate: try entry.surrogate.map(SurrogateParser.parse), seed: seed)
            return try Network.Population(name: entry.name, model: registry.model(named: entry.model).model, size: entry.size, bias: entry.bias,
                                          settings: settings, loadArray: loadArray)
        }
        let sizes = Dictionary(compiled.map { ($0.name, $0.size) }, uniquingKeysWith: { first, _ in first })
        var described = projections
        for index in described.indices {
            guard let mask = masks[index] else { continue }
            let rows = sizes[described[index].target], columns = described[index].source == Network.inputName ? inputCount : sizes[described[index].source]
            guard let rows, let columns else { continue }  // an unknown name: `Network` names it
            described[index].mask = try mask.mask(rows: rows, columns: columns)
        }
        return try Network(inputs: inputCount, populations: compiled, projections: described,
                           readout: ReadoutDescription(sources: readoutSources, outputs: outputCount, decay: readoutDecay))
    }
}

/// A JSON value with the path that reached it, for errors that say where.
struct JSONValue {
    let value: Any
    let path: String
    /// Makes the error for a reason that already names the place.
    let report: (String) -> PlasticityError

    init(_ value: Any, at path: String, fail report: @escaping (String) -> PlasticityError) {
        self.value = value
        self.path = path
        self.report = report
    }

    func fail(_ reason: String) -> PlasticityError { report("\(path) \(reason)") }

    /// An object's members; with `keys`, any other key is refused with the nearest allowed one.
    func object(keys: [String]?) throws -> [String: JSONValue] {
        guard let dictionary = value as? [String: Any] else { throw fail("must be an object {…}") }
        var result: [String: JSONValue] = [:]
        for (key, member) in dictionary {
            if let keys, !keys.contains(key) {
                let hint = NearestName.of(key, among: keys).map { "did you mean \"\($0)\"? " } ?? ""
                throw fail("has an unknown key \"\(key)\" (\(hint)allowed: \(keys.joined(separator: ", ")))")
            }
            result[key] = JSONValue(member, at: path == "the file" ? "\(key)" : "\(path).\(key)", fail: report)
        }
        return result
    }

    func array() throws -> [JSONValue] {
        guard let list = value as? [Any] else { throw fail("must be a list […]") }
        return list.enumerated().map { JSONValue($1, at: "\(path)[\($0)]", fail: report) }
    }

    func string() throws -> String {
        guard let text = value as? String else { throw fail("must be a string") }
        return text
    }

    func number() throws -> Double {
        guard let number = value as? NSNumber, !Self.isBoolean(number), number.doubleValue.isFinite else {
            throw fail("must be a finite number")
        }
        return number.doubleValue
    }

    func integer(in range: ClosedRange<Int>) throws -> Int {
        let number = try number()
        guard number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw fail("must be a whole number in \(range.lowerBound)…\(range.upperBound), got \(number)")
        }
        return Int(number)
    }

    func boolean() throws -> Bool {
        guard let number = value as? NSNumber, Self.isBoolean(number) else { throw fail("must be true or false") }
        return number.boolValue
    }

    /// JSONSerialization gives true and false as NSNumbers of type char.
    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }
}
