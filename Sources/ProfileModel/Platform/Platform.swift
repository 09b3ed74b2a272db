// The one file that names the C library. Every other file of ProfileModel, and the modules
// that import it (TUI, perftop, perftop-bench), see libc through this re-export, so a port to
// another C library changes this file only.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif

enum Platform {
    /// libc's `free`, for callers inside a type with a `free` of its own.
    static func freeMemory(_ p: UnsafeMutableRawPointer?) { free(p) }
}
