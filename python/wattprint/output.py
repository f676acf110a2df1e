"""The output classes, as codecarbon.output has them: BaseOutput for custom
handlers (output_handlers=[...]), LoggerOutput, GoogleCloudLoggerOutput,
HTTPOutput, CodeCarbonAPIOutput, PrometheusOutput, LogfireOutput, FileOutput,
OutputMethod, EmissionsData and TaskEmissionsData."""

from ._data import EmissionsData, TaskEmissionsData
from ._outputs import (BaseOutput, CodeCarbonAPIOutput, FileOutput, GoogleCloudLoggerOutput, HTTPOutput,
                       LogfireOutput, LoggerOutput, OutputMethod, PrometheusOutput)

__all__ = ["BaseOutput", "CodeCarbonAPIOutput", "EmissionsData", "FileOutput", "GoogleCloudLoggerOutput", "HTTPOutput",
           "LogfireOutput", "LoggerOutput", "OutputMethod", "PrometheusOutput", "TaskEmissionsData"]
