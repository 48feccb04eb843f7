// The C++ Temporal SDK: include this one header.
#pragma once

#include "temporalite/sdk/activity.h"
#include "temporalite/sdk/client.h"
#include "temporalite/sdk/codec.h"
#include "temporalite/sdk/failure.h"
#include "temporalite/sdk/payload.h"
#include "temporalite/sdk/task.h"
#include "temporalite/sdk/worker.h"
#include "temporalite/sdk/workflow.h"
