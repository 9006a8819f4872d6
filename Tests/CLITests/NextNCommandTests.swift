import Foundation
import Testing

/// `--speculative-algorithm nextn` on the command line: a model with an MTP layer decodes with
/// it and gives plain decoding's ids; one without it, or a tree request, is refused by name.
@Suite("nextn on the command line", .serialized)
struct NextNCommandTests {
    @Test func tinyRingDecodesWithItsMTPLayerAndOthersAreRefused() throws {
        let args = ["generate", "--model", "tiny-ring", "--chat", "--prompt", "What is 58 + 267?", "--max-tokens", "40", "--json"]
        let plain = try CommandTests.ringside(args)
        let nextn = try CommandTests.ringside(args + ["--speculative-algorithm", "nextn", "--speculative-num-steps", "2"])
        #expect(plain.status == 0 && nextn.status == 0, "\(plain.stderr) \(nextn.stderr)")
        let want = try CommandTests.json(plain.stdout)["output_ids"] as? [Int]
        let got = try CommandTests.json(nextn.stdout)["output_ids"] as? [Int]
        #expect(want != nil && got == want)

        let noLayer = try CommandTests.ringside(["generate", "--model", "smollm2-135m-instruct", "--prompt", "hi",
                                                 "--speculative-algorithm", "nextn"])
        #expect(noLayer.status == 1 && noLayer.stderr.contains("MTP (nextn) layer"), "\(noLayer.stderr)")
        let trees = try CommandTests.ringside(["generate", "--model", "tiny-ring", "--prompt", "hi",
                                               "--speculative-algorithm", "nextn", "--speculative-eagle-topk", "2"])
        #expect(trees.status == 64 && trees.stderr.contains("--speculative-eagle-topk"), "\(trees.stderr)")
    }
}
