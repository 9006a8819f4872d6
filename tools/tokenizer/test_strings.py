"""Shared test strings for the tokenizer golden fixtures (dev-only)."""

STRINGS = [
    "The capital of France is",
    "12345 + 67 = 12412",
    "Hello, world!",
    "  leading spaces",
    "trailing spaces   ",
    "tabs\tand\t\ttabs",
    "line1\r\nline2\r\n\r\nline3",
    "multiple\n\n\nnewlines\n",
    "   \n  \t ",
    " \n \n x",
    "don't won't it's we're they've I'm you'll he'd",
    "DON'T WON'T IT'S WE'RE THEY'VE I'M YOU'LL HE'D",
    "'s 's' ''s 'S 'Ll 'x it'\u017f",
    "café naïve résumé Ångström",
    "Ünïcödé wïth cömbïnïng: e\u0301 a\u0308",
    "日本語のテキストです。中文也可以。",
    "한국어 텍스트",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Ελληνικά Русский текст",
    "Emoji: 😀🎉👍🏽",
    "Family: 👨\u200d👩\u200d👧\u200d👦 and 🏳\ufe0f\u200d🌈",
    "Flags: 🇫🇷🇯🇵🇺🇸",
    "def f(x):\n    return x ** 2  # square\n",
    "let xs = [1, 2, 3].map { $0 * 2 }\nprint(xs)",
    "{\"key\": [1, 2.5, -3e10], \"nested\": {\"a\": null, \"b\": true}}",
    "Mixed!!! punctuation??? ...and---dashes; (parens) [brackets] {braces}",
    "email@example.com https://example.org/path?q=1&r=2#frag",
    "3.14159 1,000,000 1e-9 0x1F ½ ² ٣٤",
    "ALLCAPS lowercase MiXeD CamelCase snake_case kebab-case",
    "Numbers123abc456def7890",
    "supercalifragilisticexpialidocious aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Zero\u200bwidth\u200djoiner",
    "NBSP\u00a0here and\u3000ideographic space",
    "Vertical\u000btab and NEL\u0085here",
    "Tab\tseparated\tvalues\n1\t2\t3",
    "Price: $19.99 (€17,50) — 50% off!",
    "a",
    " ",
    "\n",
    "",
]


def fuzz_strings(count, seed=1234):
    """Deterministic random mixes of the characters the splitters treat specially."""
    import random

    rng = random.Random(seed)
    pool = (list("abcXYZ019'sStTlLdDrReEvVmM") + [" ", " ", "  ", "\t", "\n", "\r\n", "\r", "'", "''"]
            + list("!?.,;:-_()[]{}<>|/\\\"#$%&*+=@^`~") + ["é", "ß", "ſ", "İ", "日本", "中", "한", "ب", "न्", "Ω", "Я"]
            + ["\u0301", "\u200d", "\ufe0f", "\u00a0", "\u3000", "\u000b", "\u0085", "\u2028", "½", "²", "٣", "Ⅻ"]
            + ["😀", "👍🏽", "🇫🇷", "🦀", "\U0001F468\u200d\U0001F469"])
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 24))))
    return out
