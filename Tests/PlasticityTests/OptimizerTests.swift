import Foundation
import PlasticityCore
import Testing

@Suite("Optimisers")
struct OptimizerTests {
    /// Float weights take Adam's step in a C kernel cloned per vector width; the reference is
    /// the paper's update (Kingma & Ba 2015, with Loshchilov & Hutter's decoupled decay) written
    /// out value by value here, the moments kept in Float as the optimiser keeps them.
    @Test("AdamW in Float equals the paper's update value by value to 1e-6, for tensors whose sizes leave remainders for every vector width")
    func adamInFloat() {
        var generator = SeededGenerator(seed: 11)
        let sizes = [("w", 37), ("b", 5)]
        let (beta1, beta2, epsilon, decay, rate) = (0.9, 0.999, 1e-8, 0.01, 0.05)
        var parameters = ParameterSet<Float>(sizes.map { (name: $0.0, values: (0..<$0.1).map { _ in Float.random(in: -1...1, using: &generator) }) })
        var optimizer = Adam<Float>(beta1: beta1, beta2: beta2, epsilon: epsilon, decoupledWeightDecay: decay)
        var weights = sizes.map { parameters[$0.0].map(Double.init) }
        var means = sizes.map { [Float](repeating: 0, count: $0.1) }, variances = means
        for step in 1...3 {
            let gradients = ParameterSet<Float>(sizes.map { (name: $0.0, values: (0..<$0.1).map { _ in Float.random(in: -2...2, using: &generator) }) })
            optimizer.update(&parameters, gradients: gradients, rate: rate)
            for (tensor, (name, size)) in sizes.enumerated() {
                for i in 0..<size {
                    let g = Double(gradients[name][i])
                    means[tensor][i] = Float(beta1 * Double(means[tensor][i]) + (1 - beta1) * g)
                    variances[tensor][i] = Float(beta2 * Double(variances[tensor][i]) + (1 - beta2) * g * g)
                    let corrected = (Double(means[tensor][i]) / (1 - pow(beta1, Double(step))), Double(variances[tensor][i]) / (1 - pow(beta2, Double(step))))
                    let w = Double(Float(weights[tensor][i]))
                    weights[tensor][i] = w - rate * corrected.0 / (corrected.1.squareRoot() + epsilon) - rate * decay * w
                }
                let found = parameters[name].map(Double.init)
                let worst = zip(found, weights[tensor]).map { Swift.abs($0 - $1) / Swift.max(1e-3, Swift.abs($1)) }.max() ?? 0
                #expect(worst < 1e-6, "step \(step), \(name): relative difference \(worst)")
            }
        }
    }
}
