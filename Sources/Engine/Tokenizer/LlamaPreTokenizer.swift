/// What llama.cpp does for one GGUF `tokenizer.ggml.pre` value (`llama_vocab::impl::load` and
/// `llm_tokenizer_bpe` in its llama-vocab.cpp): the regexes run in sequence, whether a whole
/// pre-token in the vocabulary skips the merges, whether bytes are GPT-2 byte-encoded, and
/// whether spaces become `▁` first (SentencePiece-style BPE: Gemma 4).
struct LlamaPreTokenizer: Sendable {
    var regexes: [String]
    var ignoreMerges = false
    var byteEncode = true
    var escapeWhitespace = false

    /// Every `tokenizer.ggml.pre` value llama.cpp accepts; nil for the others.
    static func named(_ name: String) -> LlamaPreTokenizer? {
        switch name {
        case "default":
            return Self(regexes: Regexes.fallback)
        case "minicpm5":
            return Self(regexes: Regexes.minicpm5, ignoreMerges: true)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            return Self(regexes: Regexes.llama3, ignoreMerges: true)
        case "deepseek-llm":
            return Self(regexes: Regexes.deepseekLlm)
        case "deepseek-coder":
            return Self(regexes: Regexes.deepseekCoder)
        case "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm":
            return Self(regexes: Regexes.deepseek3Llm)
        case "spark2_5":
            return Self(regexes: Regexes.spark25)
        case "youtu":
            return Self(regexes: Regexes.youtu, ignoreMerges: true)
        case "falcon":
            return Self(regexes: Regexes.falcon)
        case "gpt2", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling":
            return Self(regexes: Regexes.gpt2)
        case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2":
            return Self(regexes: Regexes.starcoder)
        case "jais-2":
            return Self(regexes: Regexes.jais2)
        case "gemma4", "granite-embed-multi-311m":
            return Self(regexes: Regexes.gemma4, byteEncode: false, escapeWhitespace: true)
        case "sarvam-moe":
            return Self(regexes: Regexes.sarvamMoe, byteEncode: false, escapeWhitespace: true)
        case "whitespace":
            return Self(regexes: Regexes.whitespace, byteEncode: false)
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "megrez", "hunyuan", "solar-open":
            return Self(regexes: Regexes.stablelm2)
        case "qwen35":
            return Self(regexes: Regexes.qwen35)
        case "dbrx", "smaug-bpe":
            return Self(regexes: Regexes.dbrx)
        case "poro-chat", "bloom", "gpt3-finnish":
            return Self(regexes: Regexes.poro)
        case "chatglm-bpe":
            return Self(regexes: Regexes.chatglm4)
        case "glm4", "glm5":
            return Self(regexes: Regexes.chatglm4, ignoreMerges: true)
        case "viking":
            return Self(regexes: Regexes.viking)
        case "tekken":
            return Self(regexes: Regexes.tekken, ignoreMerges: true)
        case "chameleon":
            return Self(regexes: Regexes.chameleon)
        case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2":
            return Self(regexes: Regexes.gpt4o)
        case "granite-embed-multi-97m":
            return Self(regexes: Regexes.graniteEmbMulti, ignoreMerges: true)
        case "tiny_aya", "cohere2moe":
            return Self(regexes: Regexes.tinyAya)
        case "superbpe":
            return Self(regexes: Regexes.superbpe)
        case "bailingmoe", "bailingmoe2", "llada-moe":
            return Self(regexes: Regexes.bailingmoe)
        case "seed-coder":
            return Self(regexes: Regexes.seedCoder)
        case "kimi-k2":
            return Self(regexes: Regexes.kimiK2)
        case "ufakzeka":
            return Self(regexes: Regexes.ufakzeka)
        case "grok-2":
            return Self(regexes: Regexes.grok2)
        case "afmoe":
            return Self(regexes: Regexes.afmoe)
        case "laguna":
            return Self(regexes: Regexes.laguna)
        case "exaone-moe":
            return Self(regexes: Regexes.exaoneMoe)
        default:
            return nil
        }
    }

    /// The regex lists of llama-vocab.cpp, written out exactly (C string escapes and all), so
    /// that the ones llama.cpp recognises by text take the same hand-written splitter here.
    enum Regexes {
        // LLAMA3
        static let llama3: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // JAIS2
        static let jais2: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}",
        ]
        // DBRX, SMAUG
        static let dbrx: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // DEEPSEEK_LLM
        static let deepseekLlm: [String] = [
            "[\r\n]",
            "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
            "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
            "\\s+$",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}+",
        ]
        // DEEPSEEK3_LLM, HUNYUAN_DENSE, JOYAI_LLM, HY_V4
        static let deepseek3Llm: [String] = [
            "\\p{N}{1,3}",
            "[一-龥぀-ゟ゠-ヿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
        ]
        // SPARK2_5
        static let spark25: [String] = [
            "\\p{N}{1,3}",
            "[一-龥぀-ゟ゠-ヿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
            "\\p{N}",
        ]
        // YOUTU
        static let youtu: [String] = [
            "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // DEEPSEEK_CODER
        static let deepseekCoder: [String] = [
            "[\r\n]",
            "\\s?\\p{L}+",
            "\\s?\\p{P}+",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}",
        ]
        // FALCON
        static let falcon: [String] = [
            "[\\p{P}\\$\\+<=>\\^~\\|`]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "[0-9][0-9][0-9]",
        ]
        // STARCODER, REFACT, COMMAND_R, SMOLLM, CODESHELL, EXAONE, MINERVA, MELLUM2
        static let starcoder: [String] = [
            "\\p{N}",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
        ]
        // GPT2, MPT, OLMO, JAIS, TRILLION, GRANITE_DOCLING
        static let gpt2: [String] = [
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
        ]
        // STABLELM2, QWEN2, HUNYUAN, SOLAR_OPEN
        static let stablelm2: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // QWEN35
        static let qwen35: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // PORO, BLOOM, GPT3_FINNISH
        static let poro: [String] = [
            " ?[^(\\s|.,!?…。，、।۔،)]+",
        ]
        // CHATGLM4
        static let chatglm4: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // VIKING
        static let viking: [String] = [
            " ?[^(\\s|.,!?…。，、।۔،)]+",
            "\\p{N}",
        ]
        // TEKKEN
        static let tekken: [String] = [
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // CHAMELEON
        static let chameleon: [String] = [
            "<sentinel:[0-9]+>",
            "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
            "([\\t\\n]|    |  )",
            "\\p{N}",
            "[\\p{P}!-/:-@\\[-`{-~]",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
        ]
        // GPT4O, MINIMAX_M2
        static let gpt4o: [String] = [
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // GRANITE_EMB_MULTI
        static let graniteEmbMulti: [String] = [
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // TINY_AYA
        static let tinyAya: [String] = [
            "\\d{1,3}(?=(?:\\d{3})*\\b)",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // KIMI_K2
        static let kimiK2: [String] = [
            "\\p{Han}+",
        ]
        // SUPERBPE
        static let superbpe: [String] = [
            "\\p{N}+",
            "(?=(\\d{3})+(?!\\d))",
        ]
        // BAILINGMOE
        static let bailingmoe: [String] = [
            "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
        ]
        // SEED_CODER
        static let seedCoder: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // UFAKZEKA
        static let ufakzeka: [String] = [
            "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // GROK_2
        static let grok2: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // AFMOE
        static let afmoe: [String] = [
            "\\p{AFMoE_digits}",
            "[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // LAGUNA
        static let laguna: [String] = [
            "[^\\n]+|[\\n]+",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // EXAONE_MOE
        static let exaoneMoe: [String] = [
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
        ]
        // GEMMA4 (no byte encoding)
        static let gemma4: [String] = [
            "[^\\n]+|[\\n]+",
        ]
        // SARVAM_MOE (no byte encoding)
        static let sarvamMoe: [String] = [
            "[^\\n]+|[\\n]+",
        ]
        // MINICPM5
        static let minicpm5: [String] = [
            "\\p{N}{1,3}",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        ]
        // WHITESPACE (no byte encoding)
        static let whitespace: [String] = [
            "\\S+",
        ]
        // DEFAULT
        static let fallback: [String] = [
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "\\p{N}+",
            "[0-9][0-9][0-9]",
        ]
    }
}
