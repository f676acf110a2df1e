"""The output classes, as codecarbon.output has them: BaseOutput for custom
handlers (output_handlers=[...]), LoggerOutput, GoogleCloudLoggerOutput,
HTTPOutput, CodeCarbonAPIOutput, PrometheusOutput, LogfireOutput,
OutputMethod, EmissionsData and TaskEmissionsData."""

from ._data import EmissionsData, TaskEmissionsData
from ._outputs import (BaseOutput, CodeCarbonAPIOutput, GoogleCloudLoggerOutput, HTTPOutput, LogfireOutput,
                       LoggerOutput, OutputMethod, PrometheusOutput)

__all__ = ["BaseOutput", "CodeCarbonAPIOutput", "EmissionsData", "GoogleCloudLoggerOutput", "HTTPOutput",
           "LogfireOutput", "LoggerOutput", "OutputMethod", "PrometheusOutput", "TaskEmissionsData"]
