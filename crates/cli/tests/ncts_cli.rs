//! `smartborder ncts check` on files: accepted ones summarised, refused ones named by file, line,
//! column and XPath, exit status 2 when any is refused.

use std::process::Command;

const DECLARATION: &str = r#"<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>KZTRADER01</messageSender>
  <messageRecipient>NTA.KZ</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>M1</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>KZ-1</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>0</bindingItinerary>
  </TransitOperation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ000101</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <HolderOfTheTransitProcedure><identificationNumber>KZ1</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment><countryOfDestination>GE</countryOfDestination><containerIndicator>0</containerIndicator>
    <grossMass>100</grossMass>
    <referenceNumberUCR>KZUCR1</referenceNumberUCR>
    <PlaceOfLoading><UNLocode>KZALA</UNLocode></PlaceOfLoading>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>100</grossMass>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <Commodity><descriptionOfGoods>Wool</descriptionOfGoods></Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PK</typeOfPackages><numberOfPackages>4</numberOfPackages><shippingMarks>KZ-1</shippingMarks></Packaging>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>"#;

#[test]
fn check_names_every_refused_element_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    let bad = dir.path().join("bad.xml");
    let rule = dir.path().join("rule.xml");
    std::fs::write(&good, DECLARATION).unwrap();
    std::fs::write(
        &bad,
        DECLARATION.replace(
            "<grossMass>100</grossMass>\n    <referenceNumberUCR>",
            "<grossMass>-1</grossMass>\n    <referenceNumberUCR>",
        ),
    )
    .unwrap();
    std::fs::write(&rule, DECLARATION.replace("NTA.KZ", "NTA.GE")).unwrap();
    let run = |files: &[&std::path::Path]| {
        Command::new(env!("CARGO_BIN_EXE_smartborder"))
            .arg("ncts")
            .arg("check")
            .args(files)
            .output()
            .unwrap()
    };
    let out = run(&[&good]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("CC015C accepted (LRN KZ-1, route KZ000101 > GE000301)"),
        "{stdout}"
    );

    let out = run(&[&good, &bad, &rule]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{}:20:5: /CC015C/Consignment/grossMass [XML 51]",
            bad.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}: /CC015C/CustomsOfficeOfDeparture/referenceNumber [SBR002 14]",
            rule.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 file(s): 1 accepted, 2 refused"),
        "{stdout}"
    );
}

/// `ncts check` replaced bytes that are not UTF-8 and accepted the message; it refuses them
/// now, with the line and column. With `--declaration`, unloading remarks are judged against
/// the declaration they answer, as the single window does.
#[test]
fn check_refuses_bad_bytes_and_judges_unloading_remarks_against_the_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_smartborder"))
            .arg("ncts")
            .arg("check")
            .args(args)
            .output()
            .unwrap()
    };
    let latin1 = dir.path().join("latin1.xml");
    let mut bytes = DECLARATION.as_bytes().to_vec();
    let at = DECLARATION.find("Wool").unwrap();
    bytes[at + 1] = 0xF6; // "W\xF6ol": an ISO 8859-1 o-umlaut
    std::fs::write(&latin1, &bytes).unwrap();
    let out = run(&[latin1.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let line = DECLARATION[..at].matches('\n').count() + 1;
    assert!(
        stdout.contains(&format!("{}:{line}:", latin1.display())) && stdout.contains("UTF-8"),
        "{stdout}"
    );

    // A sealed declaration, and unloading remarks that do not say how the seals were found.
    let declaration = dir.path().join("cc015c.xml");
    std::fs::write(
        &declaration,
        DECLARATION.replace(
            "    <PlaceOfLoading>",
            "    <TransportEquipment><sequenceNumber>1</sequenceNumber><numberOfSeals>1</numberOfSeals><Seal><sequenceNumber>1</sequenceNumber><identifier>S1</identifier></Seal><GoodsReference><sequenceNumber>1</sequenceNumber><declarationGoodsItemNumber>1</declarationGoodsItemNumber></GoodsReference></TransportEquipment>\n    <PlaceOfLoading>",
        ),
    )
    .unwrap();
    let remarks = dir.path().join("cc044c.xml");
    std::fs::write(
        &remarks,
        r#"<ncts:CC044C xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>GETRADER09</messageSender>
  <messageRecipient>NTA.GE</messageRecipient>
  <preparationDateAndTime>2026-12-01T10:00:00</preparationDateAndTime>
  <messageIdentification>M44</messageIdentification>
  <messageType>CC044C</messageType>
  <TransitOperation><MRN>26KZ7Q2M4X9B1C0DJ8</MRN></TransitOperation>
  <CustomsOfficeOfDestinationActual><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationActual>
  <TraderAtDestination><identificationNumber>GE404040404</identificationNumber></TraderAtDestination>
  <UnloadingRemark>
    <conform>1</conform>
    <unloadingCompletion>1</unloadingCompletion>
    <unloadingDate>2026-12-01</unloadingDate>
  </UnloadingRemark>
</ncts:CC044C>"#,
    )
    .unwrap();
    let out = run(&[declaration.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&[remarks.as_os_str()]);
    assert!(out.status.success(), "alone, the remarks read");
    let out = run(&[
        remarks.as_os_str(),
        "--declaration".as_ref(),
        declaration.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("/CC044C/UnloadingRemark/stateOfSeals [C0440 13]"),
        "{stdout}"
    );
}
