import Foundation
import PlasticityBase
import PlasticityEngine

/// One rule's run in a comparison.
public struct ComparedRule: Sendable, Codable {
    public let rule: LearningRuleKind
    public let predicted: RuleCost
    public let exactness: Exactness
    /// Why the rule was not run (over the memory budget or the time limit); nil if it ran.
    public let skipped: String?
    public let loss: Double?
    public let secondsPerStep: Double?
    public let measuredBytes: Int?
    /// Against the reference rule's gradient (BPTT, or RTRL when BPTT was skipped).
    public let cosineToReference: Double?
    public let relativeErrorToReference: Double?
    /// The same agreement for each trained neuron parameter's tensor alone (empty: none trained).
    public var parameterAgreement: [TensorAgreement] = []
}

/// How one tensor's gradient agrees with the reference rule's.
public struct TensorAgreement: Sendable, Codable {
    public let tensor: String
    public let cosine: Double?
    public let relativeError: Double?

    /// Cosine similarity and ‖g − r‖/‖r‖ of `gradient` against `reference` (nil where a norm is zero).
    init(tensor: String, gradient: [Double], reference: [Double]) {
        self.tensor = tensor
        let dot = zip(gradient, reference).map { $0 * $1 }.reduce(0, +)
        let norm = gradient.map { $0 * $0 }.reduce(0, +).squareRoot(), referenceNorm = reference.map { $0 * $0 }.reduce(0, +).squareRoot()
        cosine = norm > 0 && referenceNorm > 0 ? dot / (norm * referenceNorm) : nil
        relativeError = referenceNorm > 0 ? zip(gradient, reference).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / referenceNorm : nil
    }
}

/// Every requested rule run on the same network, weights and batch.
public struct RuleComparison: Sendable, Codable {
    public let model: String
    public let network: NetworkSummary
    public let workload: Workload
    public let reference: LearningRuleKind?
    public let rules: [ComparedRule]

    /// measured/predicted time of each rule, normalised by the same ratio of the fastest rule
    /// that ran: 1 means the cost model ranks that pair exactly as measured.
    public var timeRatioAgreement: [LearningRuleKind: Double] {
        let ran = rules.filter { $0.secondsPerStep != nil }
        guard let base = ran.min(by: { $0.secondsPerStep! < $1.secondsPerStep! }) else { return [:] }
        let baseRatio = base.secondsPerStep! / base.predicted.secondsPerStep
        return Dictionary(uniqueKeysWithValues: ran.map { ($0.rule, ($0.secondsPerStep! / $0.predicted.secondsPerStep) / baseRatio) })
    }

    /// Runs `rules` (skipping those predicted to exceed the budget or the time limit).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public static func run<T: KernelScalar>(network: Network, parameters: ParameterSet<T>, inputs: [T], steps: Int, batch: Int, loss: Loss<T>,
                                            rules: [LearningRuleKind], memoryBudget: Int, timeLimit: Double,
                                            options: RuleOptions = .init(), parallelism: Parallelism = .single) throws -> RuleComparison {
        let workload = Workload(batch: batch, steps: steps, scalarBytes: MemoryLayout<T>.size, deferredLoss: loss.isDeferred,
                                inputDensity: Workload.density(of: inputs))
        // Priced as run: each shard by the model, scaled to the process's workers and rounds.
        func price(_ model: CostModel, _ rule: LearningRuleKind) -> RuleCost { parallelism.processCost(model.cost(of: rule), batch: batch) }
        let model = CostModel(network: network, workload: parallelism.shard(of: workload), deepFeedback: options.deepFeedback)
        let workspaces = ShardWorkspaces<T>()
        var results: [LearningRuleKind: (GradientResult<T>, Double)] = [:]
        var skipped: [LearningRuleKind: String] = [:]
        for rule in rules {
            let predicted = price(model, rule)
            if predicted.peakBytes > memoryBudget {
                skipped[rule] = "predicted \(MemorySize.format(predicted.peakBytes)) exceeds the \(MemorySize.format(memoryBudget)) budget"
                continue
            }
            let predictedSeconds = predicted.secondsPerStep * Double(steps)
            if predictedSeconds > timeLimit {
                skipped[rule] = String(format: "predicted %.0f s exceeds the %.0f s time limit", predictedSeconds, timeLimit)
                continue
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try ShardedComputation.gradients(rule: rule, network: network, parameters: parameters,
                                                          batch: SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss), options: options,
                                                          shards: parallelism.shards, threads: parallelism.threads, workspaces: workspaces)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            results[rule] = (result, seconds / Double(steps))
        }
        // Every rule ran the same forward pass: its spikes price the recurrent product.
        let measuredWorkload = results.values.first.map { workload.measuring(spikes: $0.0.spikeCount, steps: steps, hidden: network.neuronCount) } ?? workload
        let measured = CostModel(network: network, workload: parallelism.shard(of: measuredWorkload), deepFeedback: options.deepFeedback)
        let reference: LearningRuleKind? = results[.bptt] != nil ? .bptt : results[.rtrl] != nil ? .rtrl : nil
        let referenceGradients = reference.map { results[$0]!.0.gradients }
        let neuronParameterTensors = network.trainedNeuronParameters.map(\.tensor)
        let compared = rules.map { rule -> ComparedRule in
            let exactness = Exactness.of(rule, network: network, feedback: options.feedback, deepFeedback: options.deepFeedback)
            guard let (result, secondsPerStep) = results[rule] else {
                return ComparedRule(rule: rule, predicted: price(measured, rule), exactness: exactness, skipped: skipped[rule], loss: nil,
                                    secondsPerStep: nil, measuredBytes: nil, cosineToReference: nil, relativeErrorToReference: nil)
            }
            func doubles(_ values: [T]) -> [Double] { values.map { Double($0) } }
            let overall = referenceGradients.map { TensorAgreement(tensor: "all", gradient: doubles(result.gradients.flattened), reference: doubles($0.flattened)) }
            var compared = ComparedRule(rule: rule, predicted: price(measured, rule), exactness: exactness, skipped: nil, loss: result.loss,
                                        secondsPerStep: secondsPerStep, measuredBytes: result.storageBytes, cosineToReference: overall?.cosine,
                                        relativeErrorToReference: overall?.relativeError)
            if let referenceGradients {
                compared.parameterAgreement = neuronParameterTensors.map {
                    TensorAgreement(tensor: $0, gradient: doubles(result.gradients[$0]), reference: doubles(referenceGradients[$0]))
                }
            }
            return compared
        }
        return RuleComparison(model: network.modelNames, network: NetworkSummary(network), workload: measuredWorkload, reference: reference, rules: compared)
    }
}
