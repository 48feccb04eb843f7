// Operations commands: `temporalite backup create|list|verify|restore`, `doctor`, `alert check`.
#pragma once

#include <CLI/CLI.hpp>

#include "ops/object_store.h"

namespace temporalite::ops {

void RegisterBackupCommands(CLI::App* app, int* exit_code);
void RegisterDoctorCommand(CLI::App* app, int* exit_code);
void RegisterAlertCommands(CLI::App* app, int* exit_code);

// The --s3-* flags shared by the backup commands and doctor.
struct S3Flags {
  S3Settings s;
  int part_size_mib = 8;
};
void AddS3Flags(CLI::App* cmd, S3Flags* f);
S3Settings Settings(const S3Flags& f);


}  // namespace temporalite::ops
