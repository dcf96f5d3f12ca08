import ArgumentParser
import Logging

/// `--log-level` takes swift-log's levels only (trace, debug, info, notice, warning, error, critical): a wrong value is
/// refused at parse time with the list (exit 64), not taken silently as the default (issue 19). Shell completion
/// lists them.
extension Logger.Level: @retroactive ExpressibleByArgument {}
