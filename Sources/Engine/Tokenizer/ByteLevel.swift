/// GPT-2's reversible byte ⇄ printable-character mapping (`bytes_to_unicode`).
enum ByteLevel {
    /// Scalar that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// UTF-8 of the scalar for each byte, so encoded strings can be built without `String`.
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// Byte for each mapped scalar (index by scalar value), -1 where the scalar is not a byte.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// Byte-level string for raw bytes, e.g. `" hi"` → `"Ġhi"`.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for byte in bytes { out.append(Unicode.Scalar(scalarForByte[Int(byte)])!) }
        return String(out)
    }

    /// Raw bytes of a byte-level token string; characters outside the mapping pass through
    /// as their own UTF-8 (added tokens may contain them).
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let v = Int(scalar.value)
            if v < byteForScalar.count, byteForScalar[v] >= 0 {
                out.append(UInt8(byteForScalar[v]))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }
}
