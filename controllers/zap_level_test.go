package controllers_test

import (
	"os"

	"go.uber.org/zap/zapcore"
)

// zapLevel keeps test output readable: set TEST_LOG_LEVEL=debug to see reconcile logs.
func zapLevel() zapcore.Level {
	if os.Getenv("TEST_LOG_LEVEL") == "debug" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
