#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// C library shims, kept here so the rest of the interpreter needs no platform imports.
func cPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

/// `datetime.now().strftime(format)` in local time; with `SOURCE_DATE_EPOCH` set (seconds
/// since 1970), that moment in UTC, so that renders can be reproduced.
func cStrftimeNow(_ format: String) -> String {
    var now = time(nil)
    var parts = tm()
    if let raw = getenv("SOURCE_DATE_EPOCH"), let epoch = Int(String(cString: raw)) {
        now = time_t(epoch)
        gmtime_r(&now, &parts)
    } else {
        localtime_r(&now, &parts)
    }
    var buffer = [CChar](repeating: 0, count: 512)
    let count = strftime(&buffer, buffer.count, format, &parts)
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// C `printf` formatting of one double, e.g. `cFormatDouble(3.14159, "%.2f")`.
func cFormatDouble(_ value: Double, _ spec: String) -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    let written = withVaList([value]) { vsnprintf(&buffer, buffer.count, spec, $0) }
    let count = max(0, min(Int(written), buffer.count - 1))
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
