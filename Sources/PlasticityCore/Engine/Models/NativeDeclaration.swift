import CPluginABI
import PlasticityBase

/// A C model's descriptor in the host's terms, whichever ABI version it came in: version 1
/// and 2 structs (names and defaults in parallel arrays) and version 3 structs (each with its
/// own size, descriptions and ranges) both become one.
struct NativeDeclaration {
    var name: String
    var summary: String?
    var states: [StateVariable]
    var parameters: [ParameterSpec]
    var surrogate: String?
    var update: UnsafeMutableRawPointer?
    var spikeArgument: UnsafeMutableRawPointer?
    /// The rules as version 3 states them (a version-1 rule is the same without its size).
    var rules: [plasticity_partial_rule_v3]

    /// The models of a C plugin's entry point, refusing malformed descriptors.
    static func read(_ plugin: UnsafeRawPointer, path: String, version: Int32) throws -> [NativeDeclaration] {
        version >= 3 ? try readVersion3(plugin, path: path) : try readVersion1(plugin.assumingMemoryBound(to: plasticity_c_plugin_v1.self).pointee, path: path)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }

    private static func readVersion1(_ plugin: plasticity_c_plugin_v1, path: String) throws -> [NativeDeclaration] {
        guard plugin.model_count > 0, let models = plugin.models else {
            throw PlasticityError.invalidModel(model: path, reason: "the C plugin declares no models")
        }
        return try (0..<Int(plugin.model_count)).map { index in
            let model = models[index]
            guard let name = string(model.name) else { throw PlasticityError.invalidModel(model: path, reason: "model \(index) has no name") }
            let k = Int(model.state_count), p = Int(model.parameter_count)
            guard k == 0 || model.state_names != nil else { throw PlasticityError.invalidModel(model: name, reason: "it declares \(k) state variables without names") }
            guard p == 0 || (model.parameter_names != nil && model.parameter_defaults != nil) else {
                throw PlasticityError.invalidModel(model: name, reason: "it declares \(p) parameters without names or defaults")
            }
            guard model.rule_count == 0 || model.rules != nil else { throw PlasticityError.invalidModel(model: name, reason: "it declares \(model.rule_count) rules without an array of them") }
            return NativeDeclaration(
                name: name, summary: string(model.summary),
                states: (0..<k).map { StateVariable(string(model.state_names[$0]) ?? "h\($0)", initialValue: model.initial_state?[$0] ?? 0) },
                parameters: (0..<p).map { ParameterSpec(string(model.parameter_names[$0]) ?? "p\($0)", default: model.parameter_defaults[$0]) },
                surrogate: string(model.default_surrogate), update: model.update, spikeArgument: model.spike_argument,
                rules: (0..<Int(model.rule_count)).map { index in
                    let rule = model.rules[index]
                    return plasticity_partial_rule_v3(struct_size: 0, partial: rule.partial, row: rule.row, column: rule.column, kind: rule.kind,
                                                      constant: rule.constant, kernel: rule.kernel)
                })
        }
    }

    private static func readVersion3(_ plugin: UnsafeRawPointer, path: String) throws -> [NativeDeclaration] {
        let header = try SizedArray<plasticity_c_plugin_v3>(plugin, count: 1, what: "the plugin struct", owner: path)[0]
        guard header.model_count > 0, let models = header.models else {
            throw PlasticityError.invalidModel(model: path, reason: "the C plugin declares no models")
        }
        let descriptors = try SizedArray<plasticity_model_descriptor_v3>(UnsafeRawPointer(models), count: Int(header.model_count), what: "the model descriptors", owner: path)
        return try (0..<descriptors.count).map { index in
            let model = descriptors[index]
            guard let name = string(model.name) else { throw PlasticityError.invalidModel(model: path, reason: "model \(index) has no name") }
            func fail(_ reason: String) -> PlasticityError { .invalidModel(model: name, reason: reason) }
            let k = Int(model.state_count), p = Int(model.parameter_count)
            let states = try SizedArray<plasticity_state_v3>(UnsafeRawPointer(model.states), count: k, what: "the states", owner: name)
            let parameters = try SizedArray<plasticity_parameter_v3>(UnsafeRawPointer(model.parameters), count: p, what: "the parameters", owner: name)
            let rules = try SizedArray<plasticity_partial_rule_v3>(UnsafeRawPointer(model.rules), count: Int(model.rule_count), what: "the rules", owner: name)
            return NativeDeclaration(
                name: name, summary: string(model.summary),
                states: try (0..<k).map { index in
                    let state = states[index], label = string(state.name) ?? "h\(index)"
                    return StateVariable(label, initialValue: state.initial_value, summary: string(state.description) ?? "",
                                         typicalRange: try range(state.typical_minimum, state.typical_maximum, of: "state \(label)", model: name))
                },
                parameters: try (0..<p).map { index in
                    let parameter = parameters[index], label = string(parameter.name) ?? "p\(index)"
                    let valid = try range(parameter.minimum, parameter.maximum, of: "parameter \(label)", model: name)
                    guard valid?.contains(parameter.default_value) ?? true else {
                        throw fail("the default \(parameter.default_value) of parameter \(label) is outside its range [\(parameter.minimum), \(parameter.maximum)]")
                    }
                    return ParameterSpec(label, default: parameter.default_value, summary: string(parameter.description) ?? "",
                                         validRange: valid ?? -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
                },
                surrogate: string(model.default_surrogate), update: model.update, spikeArgument: model.spike_argument,
                rules: (0..<rules.count).map { rules[$0] })
        }
    }

    /// A stated range (nil when both bounds are 0), refused if it is not one.
    private static func range(_ lower: Double, _ upper: Double, of what: String, model: String) throws -> ClosedRange<Double>? {
        if lower == 0 && upper == 0 { return nil }
        guard !lower.isNaN, !upper.isNaN, lower <= upper else {
            throw PlasticityError.invalidModel(model: model, reason: "\(what) has the range [\(lower), \(upper)]; give minimum ≤ maximum, or both 0 for none")
        }
        return Swift.max(lower, -Double.greatestFiniteMagnitude)...Swift.min(upper, Double.greatestFiniteMagnitude)
    }
}

/// An array of version-3 structs, each beginning with its own `struct_size`: read with that
/// stride, so a plugin built against a later header (larger structs) still loads, and
/// refused when the size is smaller than this host's struct, not aligned, or differs within
/// the array.
private struct SizedArray<Element> {
    /// nil for an empty array (a plugin may give no pointer for none).
    let base: UnsafeRawPointer?
    let stride: Int
    let count: Int

    init(_ pointer: UnsafeRawPointer?, count: Int, what: String, owner: String) throws {
        self.count = count
        guard count > 0 else {
            (base, stride) = (nil, 0)
            return
        }
        guard let pointer else { throw PlasticityError.invalidModel(model: owner, reason: "it declares \(count) of \(what) without an array of them") }
        let size = Int(pointer.loadUnaligned(as: UInt32.self))
        let known = MemoryLayout<Element>.size
        guard size >= known, size <= 1 << 16, size % MemoryLayout<Element>.alignment == 0 else {
            throw PlasticityError.invalidModel(model: owner, reason: "\(what) give struct_size \(size), but ABI 3's struct is \(known) bytes; set struct_size = sizeof the struct")
        }
        for index in 1..<Swift.max(count, 1) where Int(pointer.loadUnaligned(fromByteOffset: index * size, as: UInt32.self)) != size {
            throw PlasticityError.invalidModel(model: owner, reason: "\(what) give struct_size \(size) for the first and another size for number \(index); every one must be sizeof the struct")
        }
        base = pointer
        stride = size
    }

    subscript(index: Int) -> Element { base!.loadUnaligned(fromByteOffset: index * stride, as: Element.self) }
}
